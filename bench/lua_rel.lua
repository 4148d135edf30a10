-- lua_rel.lua - the binary relation of the plain-Lua sides of
-- bench/general.sh: a table of tables by its first place (f[x][y]) and by
-- its second (r[y][x]), and its size.
--   local Rel = dofile(here .. "/lua_rel.lua"); local rel, put = Rel.rel, Rel.put
local M = {}

function M.rel() return { f = {}, r = {}, n = 0 } end

-- Adds (x, y) to R; false when it was there.
function M.put(R, x, y)
  local t = R.f[x]; if not t then t = {}; R.f[x] = t end
  if t[y] then return false end
  t[y] = true
  local u = R.r[y]; if not u then u = {}; R.r[y] = u end
  u[x] = true
  R.n = R.n + 1
  return true
end

return M
