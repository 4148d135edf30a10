-- rdfs_lua.lua - the plain-Lua side of bench/general.sh rdfs: the same six
-- rules evaluated semi-naively by hand over every fact (F[p][s][o] and, by
-- object, R[p][o][s]; each round joins the last round's new facts, in each
-- place they can take, with everything, and the round's facts go in after
-- it), timed from after the load (CPU seconds).
--   lua5.4 bench/rdfs_lua.lua input.txt
local F, R, n, empty = {}, {}, 0, {}
local function has(s, p, o)
  local a = F[p]; a = a and a[s]
  return a and a[o]
end
local function put(s, p, o)
  local a = F[p]; if not a then a = {}; F[p] = a; R[p] = {} end
  local b = a[s]; if not b then b = {}; a[s] = b end
  if b[o] then return false end
  b[o] = true
  local c = R[p][o]; if not c then c = {}; R[p][o] = c end
  c[s] = true
  n = n + 1
  return true
end
local d = {}
for line in io.lines(arg[1]) do
  local s, p, o = line:match("(%S+) (%S+) (%S+)")
  if put(s, p, o) then d[#d + 1] = s; d[#d + 1] = p; d[#d + 1] = o end
end
local t0 = os.clock()
local SC, SP, TY, DOM, RNG = "subClassOf", "subPropertyOf", "type", "domain", "range"
local function get(p, x) local a = F[p]; return a and a[x] or empty end
local function inv(p, x) local a = R[p]; return a and a[x] or empty end
local function all(p) return F[p] or empty end
local nd
local function add(s, p, o) if not has(s, p, o) then nd[#nd + 1] = s; nd[#nd + 1] = p; nd[#nd + 1] = o end end
while #d > 0 do
  nd = {}
  for i = 1, #d, 3 do
    local s, p, o = d[i], d[i + 1], d[i + 2]
    -- as ?x ?p ?y: x q y for p subPropertyOf q; x type c for p domain c; y type c for p range c
    for q in pairs(get(SP, p)) do add(s, q, o) end
    for c in pairs(get(DOM, p)) do add(s, TY, c) end
    for c in pairs(get(RNG, p)) do add(o, TY, c) end
    if p == SC then
      for e in pairs(get(SC, o)) do add(s, SC, e) end -- as the first sc
      for c in pairs(inv(SC, s)) do add(c, SC, o) end -- as the second
      for x in pairs(inv(TY, s)) do add(x, TY, o) end -- x type s, s sc o
    elseif p == TY then
      for e in pairs(get(SC, o)) do add(s, TY, e) end
    elseif p == SP then
      for r in pairs(get(SP, o)) do add(s, SP, r) end
      for q in pairs(inv(SP, s)) do add(q, SP, o) end
      for x, ys in pairs(all(s)) do for y in pairs(ys) do add(x, o, y) end end
    elseif p == DOM then
      for x in pairs(all(s)) do add(x, TY, o) end
    elseif p == RNG then
      for y in pairs(R[s] or empty) do add(y, TY, o) end
    end
  end
  d = {}
  for i = 1, #nd, 3 do
    if put(nd[i], nd[i + 1], nd[i + 2]) then d[#d + 1] = nd[i]; d[#d + 1] = nd[i + 1]; d[#d + 1] = nd[i + 2] end
  end
end
print(string.format("lua t %d infer %.3f", n, os.clock() - t0))
