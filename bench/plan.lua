-- plan.lua - planning time of big queries (bench/plan.sh): for each size,
-- a chain `?v1 p ?v2 . ?v2 p ?v3 . ...` and a star `?x p ?v1 . ?x p ?v2
-- . ...` are read and planned (kb:plan) RUNS times on a small store;
-- prints the median and the worst run per size and shape,
-- then the time of a match filter stopped at its step budget.
--   lore --empty bench/plan.lua [RUNS]
local runs = tonumber(arg[1]) or 5
local b = kb:batch()
for i = 1, 100 do b:add("n" .. i, "p", "n" .. (i % 100 + 1)) end
b:commit()
local clock = os.clock

local function median(t)
  table.sort(t)
  return t[(#t + 1) // 2], t[#t]
end

-- a chain (each variable in two patterns) and a star (one variable in all)
local shapes = {
  chain = function(i) return "?v" .. i .. " p ?v" .. (i + 1) end,
  star = function(i) return "?x p ?v" .. i end,
}
print("| patterns | chain, median s | chain, worst s | star, median s | star, worst s |")
print("|---|---|---|---|---|")
for _, n in ipairs { 10, 100, 1000, 10000, 100000 } do
  local cells = {}
  for _, shape in ipairs { "chain", "star" } do
    local parts = {}
    for i = 1, n do parts[i] = shapes[shape](i) end
    local text = table.concat(parts, " . ")
    local times = {}
    for r = 1, runs do
      local t0 = clock()
      kb:plan(text)
      times[r] = clock() - t0
    end
    local med, worst = median(times)
    cells[#cells + 1] = string.format("%.4f | %.4f", med, worst)
  end
  print(string.format("| %d | %s |", n, table.concat(cells, " | ")))
end

-- the matcher's worst case: a backtracking pattern stopped at its budget
kb:add("long", "is", lore.text(string.rep("a", 200)))
local pat = string.rep("a*", 50) .. "b"
local times = {}
for r = 1, runs do
  local t0 = clock()
  local ok = pcall(function() return kb:q('?x is ?t . filter ?t match "' .. pat .. '"'):count() end)
  assert(not ok)
  times[r] = clock() - t0
end
local med, worst = median(times)
print(string.format("\nmatch %s against 200 a's: stopped at the step budget in %.3f s (median), %.3f s (worst)",
  'string.rep("a*", 50) .. "b"', med, worst))
