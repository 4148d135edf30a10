-- fail.lua - a script that fails on line 3, for the exit-status tests.
local x = 1
error("boom at " .. x)
