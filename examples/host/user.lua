-- user.lua - a user's script for host_lua: what the user knows beforehand
kb:add("cache", "uses", "db")
kb:add("disk", "note", lore.text(string.rep("a", 200)))
