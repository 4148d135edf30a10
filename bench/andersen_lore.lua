-- andersen_lore.lua - lore's side of bench/general.sh andersen: the
-- statements in one batch, the analysis's four rules, one kb:infer timed
-- (CPU seconds).
--   lore --empty bench/andersen_lore.lua input.txt
local b = kb:batch()
for line in io.lines(arg[1]) do
  local s, p, o = line:match("^(%S+) (%S+) (%S+)$")
  b:add(s, p, o)
end
b:commit()
for _, r in ipairs {
  "?p pt ?o :- ?p addressOf ?o",
  "?p pt ?o :- ?p assign ?q, ?q pt ?o",
  "?p pt ?o :- ?p load ?q, ?q pt ?r, ?r pt ?o",
  "?r pt ?o :- ?p store ?q, ?p pt ?r, ?q pt ?o",
} do kb:rule(r) end
local t0 = os.clock()
kb:infer()
local t = os.clock() - t0
print(string.format("lore pt %d infer %.3f", kb:count(nil, "pt", nil), t))
