-- events_lua.lua - the plain-Lua side of bench/events.sh: the W2 forest's
-- ancestor closure kept by hand (anc[x] = set of x's ancestors, children
-- lists for the descendants), each event's new pairs added at once and
-- counted as a host's callback would receive them.
--   lua5.4 bench/events_lua.lua FOREST.nt EVENTS.txt
local forest, events = arg[1], arg[2]
local PARENT = "<http://example.org/parent>"
local parents, children = {}, {}
local function edge(c, p)
  local ps = parents[c]; if not ps then ps = {}; parents[c] = ps end
  ps[p] = true
  local cs = children[p]; if not cs then cs = {}; children[p] = cs end
  cs[#cs + 1] = c
end
for line in io.lines(forest) do
  local s, p, o = line:match("^(%S+)%s+(%S+)%s+(%S+)")
  if p == PARENT then edge(s, o) end
end
local anc = {}
local function ancestors(x) -- from scratch, once, with memo
  local a = anc[x]
  if a then return a end
  a = {}
  anc[x] = a
  for p in pairs(parents[x] or {}) do
    a[p] = true
    for q in pairs(ancestors(p)) do a[q] = true end
  end
  return a
end
for x in pairs(parents) do ancestors(x) end
local heard = 0
local lat, n = {}, 0
local clock = os.clock
local t0 = clock()
for line in io.lines(events) do
  local c, p = line:match("^(%S+) (%S+)$")
  c, p = "<http://example.org/" .. c .. ">", "<http://example.org/" .. p .. ">"
  local s = clock()
  edge(c, p)
  local ups = { [p] = true }
  for q in pairs(anc[p] or {}) do ups[q] = true end
  -- c and everything below it gain ups
  local stack, seen = { c }, { [c] = true }
  while #stack > 0 do
    local d = table.remove(stack)
    local a = anc[d]; if not a then a = {}; anc[d] = a end
    for u in pairs(ups) do
      if not a[u] then a[u] = true; heard = heard + 1 end
    end
    for _, k in ipairs(children[d] or {}) do
      if not seen[k] then seen[k] = true; stack[#stack + 1] = k end
    end
  end
  n = n + 1
  lat[n] = clock() - s
end
local total = clock() - t0
table.sort(lat)
print(string.format("lua events %d seconds %.4f events/s %.0f p50_us %.2f p99_us %.2f heard %d", n, total,
  n / total, lat[n // 2 + 1] * 1e6, lat[math.floor(n * 0.99) + 1] * 1e6, heard))
