-- find.lua - finds entities by a word of their French label or English name
-- (case-insensitive), and shows what the knowledge base says of them, with
-- the sentence each fact comes from.
-- Run: lore scripts/find.lua Pologne      (or: "La Haye", otan, summit)
local lore = require "lore"
local kb = kb or lore.shipped()

local query = table.concat(arg or {}, " ")
if query == "" then
  io.stderr:write("usage: lore scripts/find.lua WORDS   (e.g. Pologne, \"La Haye\", otan)\n")
  os.exit(2)
end

-- Lowercase, also for the accented capitals of French.
local UPPER = { ["É"] = "é", ["È"] = "è", ["Ê"] = "ê", ["À"] = "à", ["Ç"] = "ç", ["Ô"] = "ô", ["Î"] = "î" }
local function lower(s)
  return (s:lower():gsub("[\xc3][\x80-\x9f]", function(c) return UPPER[c] or c end))
end
local needle = lower(query)

local function name(e)
  local n = kb:value(e, "name")
  return n and tostring(n) or lore.show(e)
end

local function srcs(s, p, o)
  local out = {}
  for _, x in ipairs(kb:sources(s, p, o) or {}) do out[#out + 1] = x end
  return table.concat(out, ", ")
end

-- Entities with a matching label or name; exact matches first.
local hits, seen = {}, {}
for _, p in ipairs({ "label", "name" }) do
  for e, _, t in kb:match(nil, p, nil) do
    local text = lower(tostring(t))
    local at = text:find(needle, 1, true)
    if at and not seen[e] and kb:count(e, "type", "Sentence") == 0 then
      seen[e] = true
      hits[#hits + 1] = { e = e, exact = text == needle, via = t }
    end
  end
end
table.sort(hits, function(a, b)
  if a.exact ~= b.exact then return a.exact end
  return a.e < b.e
end)

if #hits == 0 then
  print(string.format("Nothing is labelled or named like %q.", query))
  return
end
print(string.format("%d match%s for %q", #hits, #hits == 1 and "" or "es", query))
for _, h in ipairs(hits) do
  local e = h.e
  print()
  local types = {}
  for _, t in ipairs(kb:values(e, "type")) do types[#types + 1] = t end
  print(string.format("%s  (%s: %s)", e, table.concat(types, ", "), name(e)))
  -- what the text says (the rules' derived facts have no sentence)
  for _, p, o in kb:match(e, nil, nil, { asserted = true }) do
    if p ~= "type" then
      print(lore.wrap(string.format("%s %s  [%s]", p, lore.show(o), srcs(e, p, o)), 78, "      ", "  "))
    end
  end
  for s, p in kb:match(nil, nil, e, { asserted = true }) do
    if kb:count(s, "type", "Inference") == 0 then
      print(lore.wrap(string.format("%s %s %s  [%s]", s, p, e, srcs(s, p, e)), 78, "      ", "  <- "))
    end
  end
end
