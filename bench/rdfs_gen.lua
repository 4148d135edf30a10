-- rdfs_gen.lua - input for bench/general.sh rdfs: a random class tree of
-- C classes (each `subClassOf` one before it), C/10 properties (half of
-- them `subPropertyOf` one before), each property's `domain` and `range`,
-- and I instances, each with a `type` and two property values; as "c7
-- subClassOf c3" lines, deterministic for a seed.
--   lua5.4 bench/rdfs_gen.lua C I SEED > input.txt
local nc, ni, seed = tonumber(arg[1]), tonumber(arg[2]), tonumber(arg[3])
local np = math.max(10, nc // 10)
math.randomseed(seed)
local out = {}
local function fact(s, p, o) out[#out + 1] = s .. " " .. p .. " " .. o end
for c = 1, nc - 1 do fact("c" .. c, "subClassOf", "c" .. math.random(0, c - 1)) end
for p = 1, np - 1 do
  if math.random() < 0.5 then fact("p" .. p, "subPropertyOf", "p" .. math.random(0, p - 1)) end
end
for p = 0, np - 1 do
  fact("p" .. p, "domain", "c" .. math.random(0, nc - 1))
  fact("p" .. p, "range", "c" .. math.random(0, nc - 1))
end
for i = 0, ni - 1 do
  fact("i" .. i, "type", "c" .. math.random(0, nc - 1))
  for _ = 1, 2 do fact("i" .. i, "p" .. math.random(0, np - 1), "i" .. math.random(0, ni - 1)) end
end
io.write(table.concat(out, "\n"), "\n")
