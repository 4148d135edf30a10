-- persist.lua - the pure-Lua side of snapshots: kb:load reads .lore files
-- (the C part, lua_persist.c, gives lore.open, kb:save, kb:checkpoint,
-- kb:sync and kb:transaction).
local lore = ...

-- kb:load("x.lore"): merges the snapshot's facts (an empty kb takes it
-- whole, with the saved term ids); returns the number of new facts.
local load_snapshot = lore._load_snapshot
lore._loaders.lore = function(kb, path)
  return load_snapshot(kb, path)
end
