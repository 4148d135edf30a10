-- cspa_lore.lua - lore's side of bench/general.sh cspa: the facts in one
-- batch, the program's ten rules, one kb:infer timed (CPU seconds).
--   lore --empty bench/cspa_lore.lua input.txt
local here = arg[0]:match("^(.*)/") or "."
dofile(here .. "/general_lore.lua")(arg[1], {
  "?y vf ?x :- ?y assign ?x",
  "?x vf ?y :- ?x assign ?z, ?z ma ?y",
  "?x vf ?y :- ?x vf ?z, ?z vf ?y",
  "?x ma ?w :- ?y deref ?x, ?y va ?z, ?z deref ?w",
  "?x va ?y :- ?z vf ?x, ?z vf ?y",
  "?x va ?y :- ?z vf ?x, ?z ma ?w, ?w vf ?y",
  "?x vf ?x :- ?x assign ?y",
  "?x vf ?x :- ?y assign ?x",
  "?x ma ?x :- ?y assign ?x",
  "?x ma ?x :- ?x assign ?y",
}, { "vf", "ma", "va" })
