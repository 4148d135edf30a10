-- andersen_lua.lua - the plain-Lua side of bench/general.sh andersen: the
-- same four rules evaluated semi-naively by hand (each relation a table of
-- tables, by its first and by its second place; each round joins the last
-- round's new pt facts, in each place they can take, with everything, and
-- the round's facts go in after it), timed from after the load (CPU
-- seconds).
--   lua5.4 bench/andersen_lua.lua input.txt
local here = arg[0]:match("^(.*)/") or "."
local Rel = dofile(here .. "/lua_rel.lua")
local rel, put = Rel.rel, Rel.put
local stmt = { addressOf = rel(), assign = rel(), load = rel(), store = rel() }
for line in io.lines(arg[1]) do
  local s, p, o = line:match("(%S+) (%S+) (%S+)")
  put(stmt[p], s, o)
end
local addr, assign, load, store = stmt.addressOf, stmt.assign, stmt.load, stmt.store
local t0 = os.clock()
local pt, empty = rel(), {}
local function add(nd, x, y) if not (pt.f[x] and pt.f[x][y]) then nd[#nd + 1] = x; nd[#nd + 1] = y end end
local function commit(nd)
  local d = {}
  for i = 1, #nd, 2 do if put(pt, nd[i], nd[i + 1]) then d[#d + 1] = nd[i]; d[#d + 1] = nd[i + 1] end end
  return d
end
local nd = {}
for p, t in pairs(addr.f) do for o in pairs(t) do add(nd, p, o) end end
local d = commit(nd)
while #d > 0 do
  nd = {}
  for i = 1, #d, 2 do
    local a, b = d[i], d[i + 1] -- a new pt(a, b)
    -- pt(p,o) :- assign(p,q), pt(q,o)
    for p in pairs(assign.r[a] or empty) do add(nd, p, b) end
    -- pt(p,o) :- load(p,q), pt(q,r), pt(r,o): the new fact as pt(q,r), then as pt(r,o)
    local objs = pt.f[b]
    if objs then for p in pairs(load.r[a] or empty) do for o in pairs(objs) do add(nd, p, o) end end end
    for q in pairs(pt.r[a] or empty) do for p in pairs(load.r[q] or empty) do add(nd, p, b) end end
    -- pt(r,o) :- store(p,q), pt(p,r), pt(q,o): as pt(p,r), then as pt(q,o)
    for q in pairs(store.f[a] or empty) do for o in pairs(pt.f[q] or empty) do add(nd, b, o) end end
    for p in pairs(store.r[a] or empty) do for r in pairs(pt.f[p] or empty) do add(nd, r, b) end end
  end
  d = commit(nd)
end
print(string.format("lua pt %d infer %.3f", pt.n, os.clock() - t0))
