-- store_lua.lua - the store from Lua beside the plain-Lua baseline, in one
-- process: inserting N facts into nested tables S[s][p][o] = true (the
-- baseline of the shared bench rig) and kb:add, then enumerating.
-- Run: lore --empty bench/store_lua.lua N   (prints "key value" lines)
local lore = require "lore"
local N = math.tointeger(tonumber(arg[1] or "1e6")) or 1000000
local NTERMS, NPRED = 100000, 100
local clock = os.clock

-- the same facts for both, drawn up front
local names = {}
for i = 0, NTERMS - 1 do names[i] = "e" .. i end
local S, P, O = {}, {}, {}
local x = 88172645463325252
local function rnd(n)
  x = x ~ (x << 13); x = x ~ (x >> 7); x = x ~ (x << 17)
  return (x & 0x7fffffffffffffff) % n
end
for i = 1, N do
  S[i], P[i], O[i] = names[rnd(NTERMS)], names[rnd(NPRED)], names[rnd(NTERMS)]
end
collectgarbage()
collectgarbage("stop") -- neither side pays for collections of the other's garbage

-- baseline: nested tables
local t0 = clock()
local T = {}
for i = 1, N do
  local s, p = S[i], P[i]
  local ps = T[s]
  if not ps then ps = {}; T[s] = ps end
  local os_ = ps[p]
  if not os_ then os_ = {}; ps[p] = os_ end
  os_[O[i]] = true
end
local t_base = clock() - t0
print(string.format("lua_tables_add_per_s %.0f", N / t_base))

-- lore
local kb = lore.new()
t0 = clock()
local add = kb.add
for i = 1, N do add(kb, S[i], P[i], O[i]) end
local t_lore = clock() - t0
print(string.format("lore_add_per_s %.0f", N / t_lore))
print(string.format("lore_facts %d", #kb))

-- lore, through a batch (the bulk way in from Lua), into a second kb
local kb2 = lore.new()
t0 = clock()
local b = kb2:batch()
local badd = b.add
for i = 1, N do badd(b, S[i], P[i], O[i]) end
b:commit()
print(string.format("lore_batch_add_per_s %.0f", N / (clock() - t0)))
kb2 = nil

-- enumeration from a generic for: every fact, by predicate
kb:count() -- index what is pending, outside the timing
local rows = 0
t0 = clock()
for p = 0, NPRED - 1 do
  for _ in kb:match(nil, names[p], nil) do rows = rows + 1 end
end
local t_enum = clock() - t0
print(string.format("lore_match_rows_per_s %.0f", rows / t_enum))
rows = 0
t0 = clock()
for _, ps in pairs(T) do
  for _, os_ in pairs(ps) do
    for _ in pairs(os_) do rows = rows + 1 end
  end
end
print(string.format("lua_tables_enum_rows_per_s %.0f", rows / (clock() - t0)))
