-- bilateral-accords.lua - how many Allies have signed bilateral security
-- agreements with Ukraine, and the sentence that says so.
-- Run: lore scripts/bilateral-accords.lua   (or lua5.4 with the module on its path)
local lore = require "lore"
local kb = kb or lore.shipped()

-- The first object of (s, p, ?), or nil.
local function get(s, p)
  for _, _, o in kb:match(s, p, nil) do return o end
end

-- Wraps text to `width` columns after an indent.
local function wrap(text, indent, width)
  local lines, line = {}, indent
  for word in tostring(text):gmatch("%S+") do
    if utf8.len(line) + utf8.len(word) > width and line ~= indent then
      lines[#lines + 1] = line
      line = indent
    end
    line = line .. (line == indent and "" or " ") .. word
  end
  lines[#lines + 1] = line
  return table.concat(lines, "\n")
end

-- The count of Allies that signed the agreements with Ukraine.
local row = kb:q[[
  ?count type Count . ?count about bilateral_security_agreements . ?count about ukraine .
  ?count value ?value . ?count as_of ?as_of . ?count trend ?trend
]]:first()
if not row then error("the knowledge base has no count of bilateral agreements", 0) end

local count, value, as_of, trend = row.count, row.value, row.as_of, row.trend
print(string.format("%d Allies have signed bilateral security agreements with Ukraine", value))
print(string.format("(as of %s; the number is %s).", tostring(as_of), tostring(trend)))

-- Where each part of the answer comes from.
local function sources(s, p, o)
  local out = {}
  for _, src in ipairs(kb:sources(s, p, o) or {}) do out[#out + 1] = src end
  return out
end

print()
local shown = {}
for _, part in ipairs({ { "value", value }, { "trend", trend }, { "as_of", as_of } }) do
  for _, src in ipairs(sources(count, part[1], part[2])) do
    if not shown[src] then
      shown[src] = true
      local text = get(src, "text")
      if text then
        print(string.format("Source %s:", src))
        print(wrap(text, "  ", 78))
      else
        -- an inferred fact: the note says from which sentences and why
        local note = kb:query{ { "?note", "concludes_subject", count },
          { "?note", "concludes_predicate", part[1] }, { "?note", "reason", "?why" } }:first()
        local why = note and note.why
        print(string.format("Source %s (%s):", src, part[1]))
        print(wrap(why or "inferred", "  ", 78))
      end
    end
  end
end
