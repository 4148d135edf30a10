-- cspa_lore.lua - lore's side of bench/cspa.sh: the facts in one batch,
-- the program's ten rules, one kb:infer timed (CPU seconds).
--   lore --empty bench/cspa_lore.lua input.txt
local b = kb:batch()
for line in io.lines(arg[1]) do
  local s, p, o = line:match("^(%S+) (%S+) (%S+)$")
  b:add(s, p, o)
end
b:commit()
for _, r in ipairs {
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
} do kb:rule(r) end
local t0 = os.clock()
kb:infer()
local t = os.clock() - t0
print(string.format("lore vf %d ma %d va %d infer %.3f", kb:count(nil, "vf", nil),
  kb:count(nil, "ma", nil), kb:count(nil, "va", nil), t))
