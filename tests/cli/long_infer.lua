-- long_infer.lua - an inference that would never end (every number has a
-- next one), for the Ctrl-C test.
kb:add("c", "num", 0)
kb:rule "?c num ?m :- ?c num ?n, ?m = ?n + 1"
print("ready")
io.stdout:flush()
kb:infer()
print("not reached")
