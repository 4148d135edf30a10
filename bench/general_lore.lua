-- general_lore.lua - what the lore sides of bench/general.sh share: loads
-- the facts of `file` ("s p o" lines) in one batch, adds the rules, times
-- one kb:infer (CPU seconds) and prints the facts of each of `preds` (or,
-- with preds nil, every fact under the name "t") as the script's line.
-- Returned as a function: dofile(here .. "/general_lore.lua")(file, rules, preds).
return function(file, rules, preds)
  local b = kb:batch()
  for line in io.lines(file) do
    local s, p, o = line:match("^(%S+) (%S+) (%S+)$")
    b:add(s, p, o)
  end
  b:commit()
  for _, r in ipairs(rules) do kb:rule(r) end
  local t0 = os.clock()
  kb:infer()
  local t = os.clock() - t0
  local counts = {}
  for _, p in ipairs(preds or {}) do counts[#counts + 1] = string.format("%s %d", p, kb:count(nil, p, nil)) end
  if not preds then counts[1] = string.format("t %d", kb:count()) end
  print(string.format("lore %s infer %.3f", table.concat(counts, " "), t))
end
