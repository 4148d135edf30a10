-- cspa_gen.lua - input for bench/cspa.sh: a random program's assignments
-- and dereferences over N variables (A assign and D deref facts, as
-- "vI assign vJ" lines), deterministic for a seed.
--   lua5.4 bench/cspa_gen.lua N A D SEED > input.txt
local n, a, d, seed = tonumber(arg[1]), tonumber(arg[2]), tonumber(arg[3]), tonumber(arg[4])
math.randomseed(seed)
local out = {}
for _ = 1, a do out[#out + 1] = string.format("v%d assign v%d", math.random(n), math.random(n)) end
for _ = 1, d do out[#out + 1] = string.format("v%d deref v%d", math.random(n), math.random(n)) end
io.write(table.concat(out, "\n"), "\n")
