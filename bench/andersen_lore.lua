-- andersen_lore.lua - lore's side of bench/general.sh andersen: the
-- statements in one batch, the analysis's four rules, one kb:infer timed
-- (CPU seconds).
--   lore --empty bench/andersen_lore.lua input.txt
local here = arg[0]:match("^(.*)/") or "."
dofile(here .. "/general_lore.lua")(arg[1], {
  "?p pt ?o :- ?p addressOf ?o",
  "?p pt ?o :- ?p assign ?q, ?q pt ?o",
  "?p pt ?o :- ?p load ?q, ?q pt ?r, ?r pt ?o",
  "?r pt ?o :- ?p store ?q, ?p pt ?r, ?q pt ?o",
}, { "pt" })
