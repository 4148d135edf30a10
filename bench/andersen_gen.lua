-- andersen_gen.lua - input for bench/general.sh andersen: M random
-- statements over N variables, a quarter `p addressOf o` (p = &o), two
-- fifths `p assign q` (p = q), the rest `p load q` (p = *q) and `p store
-- q` (*p = q) about evenly, as "vI assign vJ" lines; deterministic for a
-- seed.
--   lua5.4 bench/andersen_gen.lua N M SEED > input.txt
local n, m, seed = tonumber(arg[1]), tonumber(arg[2]), tonumber(arg[3])
math.randomseed(seed)
local out = {}
for _ = 1, m do
  local k, kind = math.random(), nil
  if k < 0.25 then kind = "addressOf"
  elseif k < 0.65 then kind = "assign"
  elseif k < 0.82 then kind = "load"
  else kind = "store" end
  out[#out + 1] = string.format("v%d %s v%d", math.random(n), kind, math.random(n))
end
io.write(table.concat(out, "\n"), "\n")
