-- long_plan.lua - a query of 300,000 chained patterns, for the Ctrl-C
-- test: reading and planning it must hear the interrupt.
local parts = {}
for i = 1, 300000 do parts[i] = "?v" .. i .. " p ?v" .. (i + 1) end
local text = table.concat(parts, " . ")
kb:add("a", "p", "b")
print("ready")
io.stdout:flush()
kb:q(text):count()
print("not reached")
