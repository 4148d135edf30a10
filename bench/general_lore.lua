-- general_lore.lua - what the lore sides of bench/general.sh share: loads
-- the facts of `file` ("s p o" lines) in one batch, adds the rules, times
-- one kb:infer (CPU seconds) and prints the facts of each of `preds` (or,
-- with preds nil, every fact under the name "t") as the script's line.
-- Returned as a function: dofile(here .. "/general_lore.lua")(file, rules, preds).
--
-- With UPKEEP_SEED set in the environment (bench/general-upkeep.sh), it
-- measures upkeep instead: 1% new facts (a random fact's subject and
-- predicate with another's object), then 1% of the original facts
-- removed, each re-inference against a fresh kb's on the same facts (the
-- stricter reading), and checks that both hold as many facts.
local function upkeep(facts, rules, seed)
  kb:infer()
  math.randomseed(seed)
  local now = {}
  for _, f in ipairs(facts) do now[table.concat(f, " ")] = f end
  local function fresh()
    local k = lore.new()
    local b = k:batch()
    for _, f in pairs(now) do b:add(f[1], f[2], f[3]) end
    b:commit()
    for _, r in ipairs(rules) do k:rule(r) end
    local t0 = os.clock()
    k:infer()
    return os.clock() - t0, k:count()
  end
  local function step(name)
    local t0 = os.clock()
    kb:infer()
    local t = os.clock() - t0
    local tf, n = fresh()
    print(string.format("upkeep %s %.4f fresh %.4f ratio %.3f%s", name, t, tf, t / tf,
      n == kb:count() and "" or "  WRONG"))
  end
  local n = math.max(1, #facts // 100)
  for _ = 1, n do
    local f, g = facts[math.random(#facts)], facts[math.random(#facts)]
    local h = { f[1], f[2], g[3] }
    now[table.concat(h, " ")] = h
    kb:add(h[1], h[2], h[3])
  end
  step("add")
  for _ = 1, n do
    local f = facts[math.random(#facts)]
    now[table.concat(f, " ")] = nil
    kb:remove(f[1], f[2], f[3])
  end
  step("remove")
end

return function(file, rules, preds)
  local facts = {}
  local b = kb:batch()
  for line in io.lines(file) do
    local s, p, o = line:match("^(%S+) (%S+) (%S+)$")
    facts[#facts + 1] = { s, p, o }
    b:add(s, p, o)
  end
  b:commit()
  for _, r in ipairs(rules) do kb:rule(r) end
  local seed = tonumber(os.getenv("UPKEEP_SEED") or "")
  if seed then return upkeep(facts, rules, seed) end
  local t0 = os.clock()
  kb:infer()
  local t = os.clock() - t0
  local counts = {}
  for _, p in ipairs(preds or {}) do counts[#counts + 1] = string.format("%s %d", p, kb:count(nil, p, nil)) end
  if not preds then counts[1] = string.format("t %d", kb:count()) end
  print(string.format("lore %s infer %.3f", table.concat(counts, " "), t))
end
