-- rdfs_lore.lua - lore's side of bench/general.sh rdfs: the facts in one
-- batch, six RDFS-style rules (two of them with a variable predicate, so
-- one recursive stratum holds them all), one kb:infer timed (CPU seconds).
--   lore --empty bench/rdfs_lore.lua input.txt
local b = kb:batch()
for line in io.lines(arg[1]) do
  local s, p, o = line:match("^(%S+) (%S+) (%S+)$")
  b:add(s, p, o)
end
b:commit()
for _, r in ipairs {
  "?c subClassOf ?e :- ?c subClassOf ?d, ?d subClassOf ?e",
  "?x type ?d :- ?x type ?c, ?c subClassOf ?d",
  "?p subPropertyOf ?r :- ?p subPropertyOf ?q, ?q subPropertyOf ?r",
  "?x ?q ?y :- ?x ?p ?y, ?p subPropertyOf ?q",
  "?x type ?c :- ?x ?p ?y, ?p domain ?c",
  "?y type ?c :- ?x ?p ?y, ?p range ?c",
} do kb:rule(r) end
local t0 = os.clock()
kb:infer()
local t = os.clock() - t0
print(string.format("lore t %d infer %.3f", kb:count(), t))
