-- user.lua - a user's script for host_lua: adds what the user knows
kb:add("web", "uses", "api")
kb:add("api", "uses", "db")
kb:add("db", "uses", "disk")
kb:add("disk", "status", "down")
kb:add("disk", "note", lore.text(string.rep("a", 200)))
