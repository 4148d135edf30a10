-- decisions.lua - what was decided, when, by whom, with which aims, and
-- the sentences that say so.
-- Run: lore scripts/decisions.lua
local lore = require "lore"
local kb = kb or lore.shipped()

local function name(e) return tostring(kb:value(e, "name") or e) end

local function srcs(s, p, o)
  local out = {}
  for _, x in ipairs(kb:sources(s, p, o) or {}) do out[#out + 1] = (x:gsub("^press:", "")) end
  return table.concat(out, ", ")
end

-- A decision's day: its own date, or the date of the event it was taken at.
local function day(d)
  local date = kb:value(d, "date")
  if date then return date, srcs(d, "date", date) end
  local at = kb:value(d, "taken_at")
  if at and kb:value(at, "date") then
    local ad = kb:value(at, "date")
    return ad, srcs(at, "date", ad)
  end
end

-- Every decision, and every thing decided at an event.
local rows = {}
for d in kb:match(nil, "type", "Decision") do
  local date, from = day(d)
  rows[#rows + 1] = { what = d, date = date, from = from, decision = true }
end
for thing, _, at in kb:match(nil, "decided_at", nil) do
  local date = kb:value(at, "date")
  rows[#rows + 1] = { what = thing, date = date, at = at, from = date and srcs(at, "date", date) }
end
table.sort(rows, function(a, b)
  local da, db = tostring(a.date or "~"), tostring(b.date or "~")
  if da ~= db then return da < db end
  if a.decision ~= b.decision then return a.decision == true end
  return a.what < b.what
end)

for i, r in ipairs(rows) do
  if i > 1 then print() end
  print(string.format("%s  %s", tostring(r.date or "(no date)"), name(r.what)))
  local by = kb:value(r.what, "taken_by") or kb:value(r.what, "committed_by")
  if by then print("            by " .. name(by)) end
  if r.at then
    print(lore.wrap("decided at " .. name(r.at) .. " [" .. srcs(r.what, "decided_at", r.at) .. "]",
      78, "            ", "            "))
  end
  for _, aim in ipairs(kb:values(r.what, "purpose")) do
    print(lore.wrap("aim: " .. name(aim), 78, "                 ", "            "))
  end
  local told = {}
  for _, s in ipairs(kb:values(r.what, "sentence")) do told[#told + 1] = (s:gsub("^press:", "")) end
  if #told == 0 and by then told[1] = srcs(r.what, kb:value(r.what, "taken_by") and "taken_by" or "committed_by", by) end
  print("            stated in: " .. table.concat(told, ", ") .. (r.from and ("; date from: " .. r.from) or ""))
end
