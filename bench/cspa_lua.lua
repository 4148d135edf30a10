-- cspa_lua.lua - the plain-Lua side of bench/general.sh cspa: the same
-- ten rules evaluated semi-naively by hand (each relation a table of
-- tables, by its first and by its second place; each round joins the last
-- round's new facts with everything), timed from after the load (CPU
-- seconds).
--   lua5.4 bench/cspa_lua.lua input.txt
local file = arg[1]
local here = arg[0]:match("^(.*)/") or "."
local Rel = dofile(here .. "/lua_rel.lua")
local rel, put = Rel.rel, Rel.put
local assign, deref = rel(), rel()
for line in io.lines(file) do
  local s, p, o = line:match("(%S+) (%S+) (%S+)")
  put(p == "assign" and assign or deref, s, o)
end
local t0 = os.clock()
local vf, ma, va = rel(), rel(), rel()
local E = {}
local nvf, nma, nva = {}, {}, {}
local function add(R, nd, x, y) if not (R.f[x] and R.f[x][y]) then nd[#nd + 1] = x; nd[#nd + 1] = y end end
-- base rules
for y, t in pairs(assign.f) do for x in pairs(t) do add(vf, nvf, y, x); add(vf, nvf, y, y); add(vf, nvf, x, x); add(ma, nma, x, x); add(ma, nma, y, y) end end
local function commit(R, nd)
  local d = {}
  for i = 1, #nd, 2 do if put(R, nd[i], nd[i + 1]) then d[#d + 1] = nd[i]; d[#d + 1] = nd[i + 1] end end
  return d
end
local dvf, dma, dva = commit(vf, nvf), commit(ma, nma), commit(va, nva)
local empty = E
while #dvf + #dma + #dva > 0 do
  nvf, nma, nva = {}, {}, {}
  -- vf(x,y) :- assign(x,z), ma(z,y)
  for i = 1, #dma, 2 do local z, y = dma[i], dma[i + 1]; for x in pairs(assign.r[z] or empty) do add(vf, nvf, x, y) end end
  -- vf(x,y) :- vf(x,z), vf(z,y)
  for i = 1, #dvf, 2 do
    local a, b = dvf[i], dvf[i + 1]
    for y in pairs(vf.f[b] or empty) do add(vf, nvf, a, y) end
    for x in pairs(vf.r[a] or empty) do add(vf, nvf, x, b) end
  end
  -- ma(x,w) :- deref(y,x), va(y,z), deref(z,w)
  for i = 1, #dva, 2 do
    local y, z = dva[i], dva[i + 1]
    local ws = deref.f[z]
    if ws then for x in pairs(deref.f[y] or empty) do for w in pairs(ws) do add(ma, nma, x, w) end end end
  end
  -- va(x,y) :- vf(z,x), vf(z,y)
  for i = 1, #dvf, 2 do
    local z, a = dvf[i], dvf[i + 1]
    for y in pairs(vf.f[z]) do add(va, nva, a, y); add(va, nva, y, a) end
  end
  -- va(x,y) :- vf(z,x), ma(z,w), vf(w,y)
  for i = 1, #dvf, 2 do
    local z, x = dvf[i], dvf[i + 1]
    for w in pairs(ma.f[z] or empty) do for y in pairs(vf.f[w] or empty) do add(va, nva, x, y) end end
  end
  for i = 1, #dma, 2 do
    local z, w = dma[i], dma[i + 1]
    local ys = vf.f[w]
    if ys then for x in pairs(vf.f[z] or empty) do for y in pairs(ys) do add(va, nva, x, y) end end end
  end
  for i = 1, #dvf, 2 do
    local w, y = dvf[i], dvf[i + 1]
    for z in pairs(ma.r[w] or empty) do for x in pairs(vf.f[z] or empty) do add(va, nva, x, y) end end
  end
  dvf, dma, dva = commit(vf, nvf), commit(ma, nma), commit(va, nva)
end
print(string.format("lua vf %d ma %d va %d infer %.3f", vf.n, ma.n, va.n, os.clock() - t0))
