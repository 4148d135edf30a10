-- rdfs_lore.lua - lore's side of bench/general.sh rdfs: the facts in one
-- batch, six RDFS-style rules (two of them with a variable predicate, so
-- one recursive stratum holds them all), one kb:infer timed (CPU seconds).
--   lore --empty bench/rdfs_lore.lua input.txt
local here = arg[0]:match("^(.*)/") or "."
dofile(here .. "/general_lore.lua")(arg[1], {
  "?c subClassOf ?e :- ?c subClassOf ?d, ?d subClassOf ?e",
  "?x type ?d :- ?x type ?c, ?c subClassOf ?d",
  "?p subPropertyOf ?r :- ?p subPropertyOf ?q, ?q subPropertyOf ?r",
  "?x ?q ?y :- ?x ?p ?y, ?p subPropertyOf ?q",
  "?x type ?c :- ?x ?p ?y, ?p domain ?c",
  "?y type ?c :- ?x ?p ?y, ?p range ?c",
})
