-- long_query.lua - a query that would run for hours, for the Ctrl-C test.
local b = kb:batch()
for i = 1, 2000 do b:add("n" .. i, "p", "n" .. (i % 2000 + 1)) end
b:commit()
print("ready")
io.stdout:flush()
kb:q("?a p ?b . ?c p ?d . ?e p ?f . ?g p ?h . filter ?a = ?h"):count()
print("not reached")
