-- commitments.lua - every commitment that reaches Ukraine: what is
-- committed, by whom, amount and period, place, and the source sentences.
-- Run: lore scripts/commitments.lua   (or lua5.4 with the module on its path)
local lore = require "lore"
local kb = kb or lore.shipped()

local function get(s, p)
  for _, _, o in kb:match(s, p, nil) do return o end
end

local function all(s, p)
  local out = {}
  for _, _, o in kb:match(s, p, nil) do out[#out + 1] = o end
  return out
end

-- An entity's English name, else its symbol.
local function name(e)
  return tostring(get(e, "name") or e)
end

local function wrap(text, indent, first, width)
  local lines, line = {}, first
  for word in tostring(text):gmatch("%S+") do
    if utf8.len(line) + utf8.len(word) > width and line ~= first and line ~= indent then
      lines[#lines + 1] = line
      line = indent
    end
    line = line .. ((line == first or line == indent) and "" or " ") .. word
  end
  lines[#lines + 1] = line
  return table.concat(lines, "\n")
end

-- 40000000000 -> "40 billion"
local function amount_words(v)
  local units = { { 1e12, "trillion" }, { 1e9, "billion" }, { 1e6, "million" } }
  for _, u in ipairs(units) do
    if v >= u[1] and v % u[1] == 0 then return string.format("%d %s", v // u[1], u[2]) end
  end
  return string.format("%.0f", v)
end

-- " (inferred)" when no sentence states the fact, only an inference.
local function inferred(s, p, o)
  local src = kb:sources(s, p, o) or {}
  for _, x in ipairs(src) do
    if x ~= "press:inferred" then return "" end
  end
  return #src > 0 and " (inferred)" or ""
end

local QUALIFIER = { at_least = "at least", exactly = "exactly", at_most = "at most" }

-- The commitments, in the order the text introduces them (their first sentence).
local list = kb:q[[
  select ?id min(?i) as ?first
  where { ?id beneficiary ukraine . ?id type Commitment . ?id sentence ?s . ?s index ?i }
  group by ?id order by ?first ?id
]]:all()

print(string.format("Commitments that reach Ukraine: %d", #list))
for i, item in ipairs(list) do
  local c = item.id
  print()
  print(string.format("%d. %s", i, name(c)))
  print(wrap(get(c, "description") or "", "             ", "   what:     ", 78))
  local by = {}
  for _, who in ipairs(all(c, "committed_by")) do by[#by + 1] = name(who) end
  print("   by:       " .. table.concat(by, ", "))
  local a = get(c, "amount")
  if a then
    local q = QUALIFIER[get(a, "qualifier")] or ""
    local period = get(a, "period")
    local text = string.format("%s%s %s%s", q ~= "" and (q .. " ") or "", amount_words(get(a, "value")),
      tostring(get(a, "currency")), period and (", for " .. name(period)) or "")
    print(wrap(text, "             ", "   amount:   ", 78))
  end
  local when = get(c, "decided_at")
  if when then
    local date = get(when, "date")
    print(wrap(string.format("%s, %s%s", tostring(date or "date not stated"), name(when),
      inferred(c, "decided_at", when)), "             ", "   decided:  ", 78))
  end
  local place = get(c, "place")
  if place then print("   place:    " .. name(place)) end
  for _, s in ipairs(all(c, "sentence")) do
    print(wrap(tostring(get(s, "text")), "             ", string.format("   source:   %s ", s), 78))
  end
end
