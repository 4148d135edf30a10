-- find.lua - finds entities by words of their names, labels, texts or symbol
-- (any case, any accents, any form of the word: kb:search), and shows what
-- the knowledge base says of each (kb:describe), with its sentences.
-- Run: lore scripts/find.lua Pologne      (or: "La Haye", coree, nsatu, engagements)
local lore = require "lore"
local kb = kb or lore.shipped()

local query = table.concat(arg or {}, " ")
if query == "" then
  io.stderr:write("usage: lore scripts/find.lua WORDS   (e.g. Pologne, \"La Haye\", coree, nsatu)\n")
  os.exit(2)
end

-- kb:search folds case and accents and stems the words (French and
-- English); the sentences that mention them are left to kb:why
local hits = {}
for _, h in ipairs(kb:search(query, { limit = 100 })) do
  if kb:count(h.entity, "type", "Sentence") == 0 then hits[#hits + 1] = h end
end
if #hits == 0 then
  print(string.format("Nothing is named or described like %q.", query))
  return
end
print(string.format("%d match%s for %q", #hits, #hits == 1 and "" or "es", query))
for i, h in ipairs(hits) do
  if i > 5 then
    print(string.format("\n... and %d more (kb:search(%q))", #hits - 5, query))
    break
  end
  print()
  print(kb:describe(h.entity))
end
