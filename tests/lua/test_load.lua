-- test_load.lua - JSON knowledge files: every term form, and bad files
-- refused with their exact message, leaving the kb exactly as it was.
local lore = require "lore"
local root = arg[1]
local check = dofile(root .. "/tests/lua/check.lua")
local eq, rows = check.eq, check.rows
local data = root .. "/tests/data/json/"

local kb = lore.new()
local n, err = kb:load(data .. "good.json")
eq(err, nil, "no error")
eq(n, 11, "facts read")
eq(#kb, 9, "duplicates counted once")
local v = {}
for _, p, o in kb:match("t", nil, nil) do v[p] = o end
eq(math.type(v.int), "integer", "integral numbers are integers")
eq(v.int, 40000000000, "big integer")
eq(math.type(v.float), "float", "non-integral numbers are numbers")
eq(v.float, 2.5, "float")
eq(math.type(v.forced), "float", "{number} forces a double")
eq(v.forced, 2.0, "forced")
eq(v.huge, 9007199254740993, "{integer} beyond 2^53 is exact")
eq(v.yes, true, "boolean")
eq(v.label, lore.text("La Haye", "fr"), "text with language")
eq(v.plain, lore.text("plain"), "text without")
eq(v.when, lore.date("2024-07-10"), "date")
eq(v.sym, "name:with:colons", "symbols with colons")
-- sources: top-level default, groups, and per-fact
eq(kb:sources("t", "int", 40000000000)[1], "doc", "top-level source")
eq(kb:sources("t", "float", 2.5)[1], "group", "group source")
eq(kb:sources("t", "yes", true)[1], "own", "fact source")
eq(kb:sources("t", "label", lore.text("La Haye", "fr")), { "doc", "group", asserted = true, derived = false, default = false },
  "two sources")

-- bad files: exact message, nothing changed
local before = rows(kb:match())
local T = 'expected a term (a string, a number, true/false, or an object with "text", "date", "number" or "integer")'
local cases = {
  { "missing.json", ": No such file or directory" },
  { "syntax.json", ":3:18: expected comma or array end, found a string" },
  { "not-object.json", ':1:1: expected an object {"lore": 1, "facts": [...]}' },
  { "no-version.json", ':1:1: expected "lore": 1 (the format version)' },
  { "unknown-key.json", ":3:11: fact: expected one of the keys lore, source, facts, rules; got 'fact'" },
  { "short-fact.json", ":5:5: facts[1]: expected a fact of 3 terms (or 4 with a source), got 2" },
  { "null-term.json", ":4:16: facts[0][2]: " .. T .. ", got null" },
  { "bad-date.json", ":4:25: facts[0][2].date: expected a date as YYYY, YYYY-MM, YYYY-MM-DD or "
    .. "YYYY-MM-DDThh:mm[:ss][Z|+hh:mm], got '2024-02-30'" },
  { "variable.json", ":3:24: facts[0][2]: expected a symbol, not the variable '?x'" },
  { "bad-group.json", ":5:5: facts[1]: expected a group with \"source\" and \"facts\", got key 'fact'" },
  { "late-error.json", ":7:8: facts[1].facts[3][0]: " .. T .. ", got key 'txt'" },
  { "big-integer.json", ":3:36: facts[0][2].integer: expected an integer, or a string of decimal digits within 64 bits" },
  { "bad-lang.json", ":3:46: facts[0][2].lang: expected a language tag like fr or en-GB, got 'f r'" },
}
for _, c in ipairs(cases) do
  local file = data .. "bad/" .. c[1]
  local ok, msg = kb:load(file)
  eq(ok, nil, c[1] .. " refused")
  eq(msg, file .. c[2], c[1] .. " message")
  eq(rows(kb:match()), before, c[1] .. " leaves the kb unchanged")
end

-- unknown formats
local ok, msg = kb:load("facts.xml")
eq(ok, nil, "unknown format")
eq(msg:match("^facts%.xml: unknown format 'xml'") ~= nil, true, "unknown format message")

-- the shipped knowledge base: every sentence is a source
local shipped = lore.shipped()
for i = 1, 13 do
  local src = "press:s" .. i
  local facts = 0
  for s, p, o in shipped:match() do
    for _, x in ipairs(shipped:sources(s, p, o)) do if x == src then facts = facts + 1 end end
  end
  eq(facts > 5, true, src .. " is the source of facts beyond its own")
end
print("ok")
