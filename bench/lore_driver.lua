-- lore_driver.lua - the rig's tasks for lore, run as
-- `lore --empty lore_driver.lua TASK FILE`: prints "PHASE load <s>" (CPU
-- seconds around kb:load) and "RESULT <distinct facts>".
local task, file = ...
if task ~= "load" then os.exit(3) end
local t0 = os.clock()
local kb = lore.new()
local n, err = kb:load(file)
if not n then
  io.stderr:write(err, "\n")
  os.exit(1)
end
print(string.format("PHASE load %.3f", os.clock() - t0))
print("RESULT " .. #kb)
