-- sandbox.lua - the sandbox's cost on Lua-heavy work (bench/sandbox.sh): a
-- query whose Lua filter runs on every row, and a Lua loop, each timed RUNS
-- times outside any sandbox and inside lore.sandbox with all three budgets
-- set (none reached), and with the deadline and memory cap only (no count
-- hook); prints medians and the ratios.
--   lore --empty bench/sandbox.lua [RUNS]
local runs = tonumber(arg[1]) or 7
local b = kb:batch()
for i = 1, 200000 do b:add("n" .. i, "v", i) end
b:commit()
local clock = os.clock

local QUERY = [[
  local n = 0
  for _ in kb:query{ {"?x", "v", "?i"}, {filter = function(r) return r.i % 3 == 0 end} } do n = n + 1 end
  return n
]]
local LOOP = [[
  local s = 0
  for i = 1, 3000000 do s = s + (i % 7) * 2 end
  return s
]]

local function median(t) table.sort(t) return t[(#t + 1) // 2] end

local all = lore.sandbox { instructions = 1e12, deadline = 600000, memory = 2 ^ 33 }
local timed = lore.sandbox { deadline = 600000, memory = 2 ^ 33 }
local function plain(code) local f = assert(load(code, "plain", "t", setmetatable({ kb = kb }, { __index = _G }))) return f() end

-- A deadline starts the state's watchdog thread at the first run that has
-- one, and once a process has had a second thread glibc's malloc takes its
-- locking path for good: the plain runs beside the sandboxed ones pay it
-- too, as they would in a host that sets deadlines.
local works = { { "query, a Lua filter on each of 200,000 rows", QUERY }, { "Lua loop, 3e6 turns", LOOP } }
local function compare(box)
  local out = {}
  for k, w in ipairs(works) do
    local a, s = {}, {}
    for r = 1, runs do
      collectgarbage() -- each run starts with no garbage left by the one before
      local t0 = clock()
      local x = plain(w[2])
      a[r] = clock() - t0
      collectgarbage()
      t0 = clock()
      local ok, y = box:run(kb, w[2])
      s[r] = clock() - t0
      assert(ok and y == x, "same result")
    end
    out[k] = { median(a), median(s) }
  end
  return out
end
local first = compare(all)
local second = compare(timed)

print("| work | outside s | sandboxed, all three budgets s | ratio | outside s (after) | sandboxed, deadline and memory s | ratio |")
print("|---|---|---|---|---|---|---|")
for k, w in ipairs(works) do
  local f, t = first[k], second[k]
  print(string.format("| %s | %.4f | %.4f | %.3f | %.4f | %.4f | %.3f |", w[1], f[1], f[2], f[2] / f[1], t[1], t[2], t[2] / t[1]))
end
