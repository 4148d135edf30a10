-- countries.lua - every country the text names, its French name there, and
-- the roles the text gives it (its relations to other things, then the facts
-- that name it as their object), with sources.
-- Run: lore scripts/countries.lua
local lore = require "lore"
local kb = kb or lore.shipped()

local function name(e)
  local n = kb:value(e, "name")
  return n and tostring(n) or lore.show(e)
end

local function srcs(s, p, o)
  local out = {}
  for _, x in ipairs(kb:sources(s, p, o) or {}) do out[#out + 1] = (x:gsub("^press:", "")) end
  return table.concat(out, ", ")
end

-- Predicates that describe rather than relate.
local SKIP = { type = true, name = true, label = true, adjective = true }

local countries = {}
for c in kb:match(nil, "type", "Country") do countries[#countries + 1] = c end
table.sort(countries, function(a, b) return name(a) < name(b) end)

print(string.format("Countries named in the text: %d", #countries))
for _, c in ipairs(countries) do
  print()
  local labels = {}
  for _, l in ipairs(kb:values(c, "label")) do labels[#labels + 1] = tostring(l) end
  for _, l in ipairs(kb:values(c, "adjective")) do labels[#labels + 1] = tostring(l) end
  print(name(c) .. (#labels > 0 and ("  (" .. table.concat(labels, ", ") .. ")") or ""))
  local roles = {}
  -- what the text says (the rules' derived facts have no sentence)
  for _, p, o in kb:match(c, nil, nil, { asserted = true }) do
    if not SKIP[p] then
      roles[#roles + 1] = string.format("%s %s [%s]", p:gsub("_", " "), name(o), srcs(c, p, o))
    end
  end
  table.sort(roles)
  -- what points at the country, written as the fact reads ("The Hague
  -- located in Netherlands"), unless it only mirrors a relation already
  -- listed (aligned_with both ways)
  local named = {}
  for s, p in kb:match(nil, nil, c, { asserted = true }) do
    if not SKIP[p] and kb:count(c, p, s) == 0 and kb:count(s, "type", "Inference") == 0 then
      named[#named + 1] = string.format("%s %s %s [%s]", name(s), p:gsub("_", " "), name(c), srcs(s, p, c))
    end
  end
  table.sort(named)
  for _, r in ipairs(roles) do print(lore.wrap(r, 78, "      ", "  - ")) end
  for _, r in ipairs(named) do print(lore.wrap(r, 78, "      ", "  - ")) end
end
