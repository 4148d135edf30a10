-- timeline.lua - the events of the text in time order: date, what, where,
-- part of what, and the sentences that date them.
-- Run: lore scripts/timeline.lua
local lore = require "lore"
local kb = kb or lore.shipped()

local function name(e) return tostring(kb:value(e, "name") or e) end

-- The sentence ids (press:sN, press:inferred) behind a fact, short.
local function srcs(s, p, o)
  local out = {}
  for _, x in ipairs(kb:sources(s, p, o) or {}) do out[#out + 1] = (x:gsub("^press:", "")) end
  return table.concat(out, ", ")
end

-- Every dated thing: events, and anything else with a date (a declaration).
local items = {}
for e, _, d in kb:match(nil, "date", nil) do
  if lore.isdate(d) then
    items[#items + 1] = { e = e, date = d, when = kb:value(e, "time_of_day") }
  end
end
for e, _, at in kb:match(nil, "issued_at", nil) do
  local d = kb:value(at, "date")
  if d then items[#items + 1] = { e = e, date = d, via = at } end
end
local part = { morning = 1, afternoon = 2 }
table.sort(items, function(a, b)
  if a.date ~= b.date then return a.date < b.date end
  local pa, pb = part[a.when] or 0, part[b.when] or 0
  if pa ~= pb then return pa < pb end
  return a.e < b.e
end)

print("Timeline of the NATO press release of 11 July 2024")
for _, it in ipairs(items) do
  print()
  local day = tostring(it.date) .. (it.when and (" (" .. it.when .. ")") or "")
  print(string.format("%-24s %s", day, name(it.e)))
  local facts = {}
  local where = kb:value(it.e, "place")
  if where then facts[#facts + 1] = "at " .. name(where) end
  local whole = kb:value(it.e, "part_of")
  if whole then facts[#facts + 1] = "part of " .. name(whole) end
  if it.via then facts[#facts + 1] = "issued at " .. name(it.via) end
  local status = kb:value(it.e, "status")
  if status then facts[#facts + 1] = tostring(status) end
  if #facts > 0 then print(lore.wrap(table.concat(facts, "; "), 78, string.rep(" ", 25), string.rep(" ", 25))) end
  -- a thing dated through where it was issued: the date is that event's,
  -- and the sentence that says where it was issued comes second
  local dated = it.via
      and (srcs(it.via, "date", it.date) .. " (the date of " .. name(it.via) .. "), "
        .. srcs(it.e, "issued_at", it.via) .. " (issued there)")
      or srcs(it.e, "date", it.date)
  print(lore.wrap("date from: " .. dated, 78, string.rep(" ", 25), string.rep(" ", 25)))
end
