-- long_match.lua - a `match` filter whose pattern backtracks for long on
-- every value (each stays under the matcher's step budget), for the Ctrl-C
-- test: the matcher itself must hear the interrupt.
local b = kb:batch()
for i = 1, 5000 do b:add("t" .. i, "is", lore.text(string.rep("a", 40) .. i)) end
b:commit()
print("ready")
io.stdout:flush()
kb:q('?x is ?t . filter ?t match "a*a*a*a*b"'):count()
print("not reached")
