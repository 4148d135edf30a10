-- who-met-whom.lua - the meetings of the summit: when, who took part, at
-- what level, about what, and the sentence that says so.
-- Run: lore scripts/who-met-whom.lua
local lore = require "lore"
local kb = kb or lore.shipped()

local function name(e) return tostring(kb:value(e, "name") or e) end

local function srcs(s, p, o)
  local out = {}
  for _, x in ipairs(kb:sources(s, p, o) or {}) do out[#out + 1] = x end
  return table.concat(out, ", ")
end

local part = { morning = 1, afternoon = 2 }
local meetings = {}
for m in kb:match(nil, "type", "Meeting") do meetings[#meetings + 1] = m end
table.sort(meetings, function(a, b)
  local da, db = tostring(kb:value(a, "date")), tostring(kb:value(b, "date"))
  if da ~= db then return da < db end
  return (part[kb:value(a, "time_of_day")] or 0) < (part[kb:value(b, "time_of_day")] or 0)
end)

for i, m in ipairs(meetings) do
  if i > 1 then print() end
  print(name(m))
  local when = { tostring(kb:value(m, "date") or "date not stated") }
  local tod = kb:value(m, "time_of_day")
  if tod then when[#when + 1] = tostring(tod) end
  print("  when:   " .. table.concat(when, ", "))
  local of = kb:value(m, "meeting_of")
  if of then print("  body:   " .. name(of)) end
  local level = kb:value(m, "level")
  if level then print("  level:  " .. name(level)) end
  local who = {}
  for _, p in ipairs(kb:values(m, "participant")) do who[#who + 1] = name(p) end
  print(lore.wrap(table.concat(who, ", "), 78, "          ", "  who:    "))
  for _, t in ipairs(kb:values(m, "topic")) do print("  topic:  " .. name(t)) end
  for _, g in ipairs(kb:values(m, "purpose")) do print("  for:    " .. name(g)) end
  local seen, from = {}, {}
  for _, p in ipairs(kb:values(m, "participant")) do
    for x in srcs(m, "participant", p):gmatch("[^, ]+") do
      if not seen[x] then seen[x] = true; from[#from + 1] = x end
    end
  end
  table.sort(from)
  for _, s in ipairs(from) do
    print(lore.wrap(tostring(kb:value(s, "text") or ""), 78, "          ", "  " .. s .. " "))
  end
end
