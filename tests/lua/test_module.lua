-- test_module.lua - the Lua module's API: values, facts, sources, matches,
-- counts, and its misuse errors, exactly.
local lore = require "lore"
local check = dofile(arg[1] .. "/tests/lua/check.lua")
local eq, raises, rows = check.eq, check.raises, check.rows

-- the same module inside lore and through require
eq(lore == _G.lore or _G.lore == nil, true, "lore global is the module")

local kb = lore.new()
eq(#kb, 0, "empty kb")
eq(tostring(kb), "lore.kb (0 facts)", "tostring")

-- adding: true when new, false when already there
eq(kb:add("poland", "member_of", "nato"), true, "add new")
eq(kb:add("poland", "member_of", "nato"), false, "add again")
eq(kb:add("poland", "member_of", "nato", { source = "press:s13" }), true, "add a source")
eq(kb:add("poland", "member_of", "nato", { source = "press:s13" }), false, "add the source again")
eq(#kb, 1, "one fact")

-- every kind of value comes back as itself
local fr = lore.text("Pologne", "fr")
kb:add("poland", "label", fr)
kb:add("poland", "population", 36753736)
kb:add("poland", "area_km2", 312696.5)
kb:add("poland", "member", true)
kb:add("poland", "joined", lore.date("1999-03-12"))
kb:add("poland", "code", lore.text("PL"))
local got = {}
for _, p, o in kb:match("poland", nil, nil) do got[p] = o end
eq(got.label, fr, "text with language")
eq(got.label.text, "Pologne", "text field")
eq(got.label.lang, "fr", "lang field")
eq(math.type(got.population), "integer", "integers stay integers")
eq(got.population, 36753736, "integer value")
eq(math.type(got.area_km2), "float", "numbers stay floats")
eq(got.member, true, "boolean")
eq(got.joined, lore.date("1999-03-12"), "date")
eq(tostring(got.joined), "1999-03-12", "date prints as written")
eq(got.code.lang, nil, "text without language")
eq(lore.istext(got.label) and lore.isdate(got.joined), true, "kinds")
eq(lore.text("a", "fr") == lore.text("a", "en"), false, "texts differ by language")
eq(lore.date("2024-07-10") < lore.date("2024-07-11"), true, "dates order")
-- dates compare by instant in Lua as in queries; ties by text; = is the same text
local D = lore.date
eq(D("2024-07-11T10:00:00+02:00") < D("2024-07-11T09:00:00Z"), true, "08:00Z before 09:00Z")
eq(D("2024-07-11T09:00:00Z") < D("2024-07-11T10:00:00+02:00"), false, "and not after")
eq(D("2024-07-11T03:00-05:00") > D("2024-07-11T07:59:59.999Z"), true, "a negative offset")
eq(D("2024-07-11T08:00:00.25Z") < D("2024-07-11T08:00:00.3Z"), true, "fractions")
eq(D("2024") < D("2024-01-01"), true, "the same instant orders by text")
eq(D("2024-07-11T08:00:00Z") <= D("2024-07-11T10:00:00+02:00"), true, "<= at one instant (by text)")
eq(D("2024-07-11T10:00:00+02:00") <= D("2024-07-11T08:00:00Z"), false, "and not the other way")
eq(D("2024-07-11T10:00:00+02:00") == D("2024-07-11T08:00:00Z"), false, "= is the same term")
eq(D("1999-12-31T23:00:00-02:00") > D("2000-01-01"), true, "across a year")
local ds = { D("2024-07-11T09:30:00Z"), D("2024-07-11"), D("2024-07-11T10:00:00+02:00"), D("2024-07") }
table.sort(ds)
eq(table.concat({ tostring(ds[1]), tostring(ds[2]), tostring(ds[3]), tostring(ds[4]) }, " "),
  "2024-07 2024-07-11 2024-07-11T10:00:00+02:00 2024-07-11T09:30:00Z", "sorted by instant")
local dkb = lore.new()
for _, d in ipairs(ds) do dkb:add("e", "at", d) end
local qd = {}
for r in dkb:select{ where = { { "e", "at", "?d" } }, order = "?d" } do qd[#qd + 1] = tostring(r.d) end
eq(table.concat(qd, " "), "2024-07 2024-07-11 2024-07-11T10:00:00+02:00 2024-07-11T09:30:00Z",
  "queries order them the same way")

-- the version, and no internals on the module table
eq(lore._VERSION, "lore 0.1.0", "_VERSION")
local under = {}
for k in pairs(lore) do
  if type(k) == "string" and k:sub(1, 1) == "_" and k ~= "_VERSION" then under[#under + 1] = k end
end
table.sort(under)
eq(table.concat(under, " "), "", "no _ internals on the module")
eq(type(debug.getregistry()["lore.internal"].loaders), "table", "they live in the registry")
-- 2 and 2.0 are distinct terms
kb:add("x", "n", 2)
kb:add("x", "n", 2.0)
eq(kb:count("x", "n", nil), 2, "2 and 2.0")
eq(kb:count("x", "n", 2), 1, "2 alone")

-- matching: nil, "?", "_" and "?name" are wildcards; unknown terms match nothing
eq(kb:count(), #kb, "count all")
eq(kb:count(nil, "member_of", nil), 1, "count by predicate")
eq(kb:count("?s", "member_of", "_"), 1, "named and anonymous wildcards")
eq(kb:count("nobody", nil, nil), 0, "unknown subject")
eq(rows(kb:match(nil, "member_of", "?")), { { "poland", "member_of", "nato" } }, "match rows")
eq(rows(kb:match("nobody", nil, nil)), {}, "no rows for unknown terms")
eq(#kb:match("poland", nil, nil):all(), 7, "all()")
eq(kb:match("poland", "member_of", nil):all(), { { "poland", "member_of", "nato" } }, "all rows")

-- sources
eq(kb:sources("poland", "member_of", "nato"),
  { "press:s13", asserted = true, derived = false, default = true }, "sources")
eq(kb:sources("poland", "member_of", "eu"), nil, "no sources for an absent fact")
eq(kb:remove("poland", "member_of", "nato", { source = "press:s13" }), true, "remove one source")
eq(kb:sources("poland", "member_of", "nato"), { asserted = true, derived = false, default = true },
  "the default source remains")
eq(kb:remove("poland", "member_of", "nato", { source = "press:s13" }), false, "nothing to remove")
eq(kb:remove("poland", "member_of", "nato"), true, "remove the fact")
eq(kb:count("poland", "member_of", nil), 0, "gone")
eq(kb:remove("nobody", "member_of", "nato"), false, "remove an unknown fact")

-- retracting a source removes what no other source holds
local kb2 = lore.new()
kb2:add("a", "p", "b", { source = "s1" })
kb2:add("a", "p", "c", { source = "s1" })
kb2:add("a", "p", "c", { source = "s2" })
kb2:add("a", "p", "d")
eq(kb2:retract_source("s1"), 1, "retract s1")
eq(rows(kb2:match()), { { "a", "p", "c" }, { "a", "p", "d" } }, "after retract")
eq(kb2:retract_source("s9"), 0, "retract an unknown source")

-- changing the kb while iterating is a clean error
raises(function()
  for s, p, o in kb2:match() do kb2:add(s, p, "z" .. o) end
end, "knowledge base changed during iteration (collect the matches first, e.g. with :all())",
  "change during iteration")
-- collecting first works
for _, r in ipairs(kb2:match(nil, "p", nil):all()) do kb2:add(r[1], "q", r[3]) end
eq(kb2:count(nil, "q", nil), 3, "collected then added (c, d and the zc added before the error)")

-- misuse raises, naming the function, the argument and what was expected
local E = "symbol, number, boolean, text or date expected"
raises(function() kb:add("a", "b", {}) end, "bad argument #3 to 'add' (" .. E .. ", got table)", "table")
raises(function() kb:add("a", "b") end, "bad argument #3 to 'add' (" .. E .. ", got no value)", "missing")
raises(function() kb:add("a", print, "c") end, "bad argument #2 to 'add' (" .. E .. ", got function)", "fn")
raises(function() kb:add("a", "b", "?x") end,
  "bad argument #3 to 'add' (a fact cannot hold the variable '?x')", "variable")
raises(function() kb:add("a", "b", "c", 5) end, "bad argument #4 to 'add' (table expected, got number)", "opts")
raises(function() kb:add("a", "b", "c", { source = {} }) end,
  "bad argument #4 to 'add' (source: " .. E .. ", got table)", "source")
raises(function() kb.add(nil, "a", "b", "c") end,
  "bad argument #1 to 'add' (lore.kb expected, got nil)", "self")
raises(function() kb:count({}) end, "bad argument #1 to 'count' (" .. E .. ", got table)", "count")
raises(function() kb:add("a", "b", 0 / 0) end,
  "bad argument #3 to 'add' (expected a number that is not NaN)", "NaN")
raises(function() kb:add("a\0b", "b", "c") end,
  "bad argument #1 to 'add' (expected valid UTF-8 without NUL bytes)", "NUL")
raises(function() lore.date("10 juillet 2024") end,
  "bad argument #1 to 'date' (a date as YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss][Z|+hh:mm] "
  .. "expected, got '10 juillet 2024')", "bad date")
raises(function() lore.text("x", "f r") end,
  "bad argument #2 to 'text' (a language tag like fr or en-GB expected)", "bad tag")
raises(function() lore.text({}) end, "bad argument #1 to 'text' (string expected, got table)", "text arg")

-- the binding's cache from Lua strings to ids: it grows with the kb
-- (carrying its entries over), and a string that dies cannot hand its
-- cached id to a new string made at the same address
do
  local k = lore.new()
  for i = 1, 5000 do k:add("n" .. i, "next", "n" .. (i + 1)) end
  eq(#k, 5000, "facts through a growing cache")
  collectgarbage()
  collectgarbage()
  local counted, skips, again = 0, 0, 0
  for i = 1, 5000 do
    counted = counted + k:count("n" .. i, "next", "n" .. (i + 1))
    skips = skips + k:count("n" .. i, "next", "n" .. (i + 2))
    if not k:add("n" .. i, "next", "n" .. (i + 1)) then again = again + 1 end
  end
  eq({ counted, skips, again }, { 5000, 0, 5000 }, "every fact found again by new strings")
  eq(rows(k:match(nil, "next", "n2501")), { { "n2500", "next", "n2501" } }, "matched back")
  for i = 1, 3000 do k:add("tmp" .. i, "is", "temporary") end
  collectgarbage()
  collectgarbage()
  local ghosts = 0
  for i = 1, 3000 do ghosts = ghosts + k:count("other" .. i, nil, nil) end
  eq(ghosts, 0, "no id for strings never added")
  eq(k:count(nil, "is", "temporary"), 3000, "the temporaries stay")
end

-- kb:terms: the symbols by prefix, in byte order, IRIs by their compact form
do
  local k = lore.new()
  k:add("press:s2", "type", "Sentence")
  k:add("press:s10", "label", lore.text("press:s1 is a text, not a symbol", "en"))
  k:add("<http://example.org/Ally>", "type", "Class")
  k:prefix("ex", "http://example.org/")
  local list, n = k:terms("press:s")
  eq(list, { "press:s10", "press:s2" }, "terms by prefix, in byte order")
  eq(n, 2, "how many")
  list, n = k:terms("", 2)
  eq(list, { "<http://example.org/Ally>", "Class" }, "terms: at most the limit")
  eq(n, 7, "terms: how many in all")
  eq(k:terms("ex:A"), { "ex:Ally" }, "an IRI by its compact form")
  eq(k:terms("zz"), {}, "no term")
  raises(function() k:terms("", -1) end, "bad argument #2 to 'terms' (a limit of 0 or more expected)", "negative limit")
end

-- a closed kb
local k3 = lore.new()
k3:add("a", "b", "c")
getmetatable(k3).__close(k3)
raises(function() k3:add("a", "b", "c") end, "calling 'add' on bad self (knowledge base is closed)", "closed")
eq(tostring(k3), "lore.kb (closed)", "closed tostring")

-- printing in scripts: iterators, sources and keyed rows read as the REPL shows them
do
  local p = lore.new()
  p:add("ann", "parent", "bob", { source = "doc:1" })
  p:add("ann", "age", 42)
  eq(tostring(p:match("ann", nil, nil)), "ann  parent  bob\nann  age     42\n(2 facts)", "print(kb:match(...))")
  eq(lore.show(p:match("nobody", nil, nil)), "(no facts)", "lore.show of an empty match")
  eq(lore.show(p:sources("ann", "parent", "bob")), "{doc:1, asserted = true, default = false, derived = false}",
    "lore.show(kb:sources(...))")
  eq(select("#", p:sources("ann", "parent", "nobody")), 1, "an absent fact's sources: one value")
  eq(p:sources("ann", "parent", "nobody"), nil, "which is nil")
  eq(p:sources("nobody", "parent", "bob"), nil, "an unknown term: nil too")
  eq(lore.tabulate({ { name = "a", v = 1 }, { name = "b", w = lore.text("x", "fr") } }),
    'name  v  w\n----  -  ------\na     1  -\nb     -  "x"@fr', "keyed rows")
  eq(lore.tabulate({ { name = "a", v = 1 } }, { "v", "name" }), "v  name\n-  ----\n1  a", "keyed rows, columns named")
end

print("ok")
