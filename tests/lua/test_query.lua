-- test_query.lua - queries from Lua: the table form, the text form and
-- their equivalence, results (iteration, all, first, count, columns, json,
-- printing), plans, paths and reach, on a small fixture and on the shipped
-- knowledge base; bad queries with their exact messages; Lua-pattern
-- filters against string.find.
local lore = require "lore"
local check = dofile(arg[1] .. "/tests/lua/check.lua")
local eq, raises = check.eq, check.raises

-- Rows as sorted lines "k=v k=v" (keys sorted), for order-free comparison.
local function lines(rows, ordered)
  local out = {}
  for i, r in ipairs(rows) do
    local keys = {}
    for k in pairs(r) do keys[#keys + 1] = k end
    table.sort(keys)
    local parts = {}
    for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. lore.show(r[k]) end
    out[i] = table.concat(parts, " ")
  end
  if not ordered then table.sort(out) end
  return table.concat(out, "\n")
end

local kb = lore.new()
for _, f in ipairs({
  { "alice", "knows", "bob" }, { "bob", "knows", "carol" }, { "carol", "knows", "alice" },
  { "carol", "knows", "dave" }, { "alice", "age", 30 }, { "bob", "age", 25 },
  { "carol", "age", 35.5 }, { "dave", "age", 30.0 }, { "alice", "name", lore.text("Alice", "en") },
  { "bob", "name", lore.text("Bob") }, { "alice", "born", lore.date("1990-05-01") },
  { "alice", "member", "club1" }, { "bob", "member", "club1" }, { "carol", "member", "club2" },
  { "a", "<http://ex.org/p/q>", "b" },
}) do kb:add(f[1], f[2], f[3]) end

-- ---------------------------------------------------------------------------
-- the table form, every operator

eq(lines(kb:query{ { "?x", "knows", "?y" }, { "?y", "knows", "?z" } }:all()),
  "x=alice y=bob z=carol\nx=bob y=carol z=alice\nx=bob y=carol z=dave\nx=carol y=alice z=bob", "join")
eq(lines(kb:query{ { "?x", "knows", "_" }, distinct = true }:all()), "x=alice\nx=bob\nx=carol", "wildcard")
eq(lines(kb:query{ { "?x", "knows", "?y" }, { optional = { { "?y", "member", "?c" } } } }:all()),
  "c=club1 x=alice y=bob\nc=club1 x=carol y=alice\nc=club2 x=bob y=carol\nx=carol y=dave", "optional")
eq(lines(kb:query{ { "?x", "knows", "?y" }, { without = { { "?y", "member", "?c" } } } }:all()),
  "x=carol y=dave", "without")
eq(lines(kb:query{ { union = { { { "?x", "member", "club1" } }, { { "?x", "age", 35.5 } } } } }:all()),
  "x=alice\nx=bob\nx=carol", "union")
eq(lines(kb:query{ { "?x", "age", "?a" }, { filter = { "?a", "=", 30 } } }:all()),
  "a=30 x=alice\na=30.0 x=dave", "numbers compare by value")
eq(lines(kb:query{ { "?x", "age", "?a" }, filter = { "?a", ">", 29 } }:all()),
  "a=30 x=alice\na=30.0 x=dave\na=35.5 x=carol", "spec-level filter")
eq(lines(kb:query{ { "?x", "age", "?a" }, filter = "?a <= 25" }:all()), "a=25 x=bob", "filter string")
eq(lines(kb:query{ { "?x", "age", "?a" }, filter = { { "?a", ">", 20 }, "?a < 31", function(r) return r.x ~= "dave" end } }:all()),
  "a=25 x=bob\na=30 x=alice", "a list of filters")
eq(lines(kb:query{ { "?x", "knows", "?y" }, { filter = { "?y", "in", { "bob", "dave", "nobody" } } } }:all()),
  "x=alice y=bob\nx=carol y=dave", "in")
eq(lines(kb:query{ { "?x", "name", "?n" }, { filter = { "?n", "match", "^A" } } }:all()),
  'n="Alice"@en x=alice', "match")
eq(lines(kb:query{ { "?x", "born", "?d" }, { filter = { "?d", "<", lore.date("2000") } } }:all()),
  "d=1990-05-01 x=alice", "dates")
eq(lines(kb:query{ { "?x", "name", lore.text("Bob") } }:all()), "x=bob", "a text constant")
-- a function sees the row as a table
local seen = {}
kb:query{ { "?x", "knows", "?y" }, filter = function(r) seen[#seen + 1] = r.x .. ">" .. r.y return true end }:all()
table.sort(seen)
eq(table.concat(seen, " "), "alice>bob bob>carol carol>alice carol>dave", "filter function rows")

-- paths in the predicate position; IRIs are not paths
eq(lines(kb:query{ { "alice", "knows+", "?y" } }:all()), "y=alice\ny=bob\ny=carol\ny=dave", "p+")
eq(lines(kb:query{ { "dave", "^knows/member", "?c" } }:all()), "c=club2", "^p/q")
eq(lines(kb:query{ { "?x", "(knows|member)?", "club2" } }:all()), "x=carol\nx=club2", "(p|q)?")
eq(lines(kb:query{ { "?x", "<http://ex.org/p/q>", "?y" } }:all()), "x=a y=b", "an IRI predicate")

-- modifiers
eq(lines(kb:select{ where = { { "?x", "age", "?a" } }, order = "-?a ?x", vars = "?x" }:all(), true),
  "x=carol\nx=dave\nx=alice\nx=bob", "order")
eq(lines(kb:select{ where = { { "?x", "age", "?a" } }, order = { "+?x" }, limit = 2, offset = 1 }:all(), true),
  "a=25 x=bob\na=35.5 x=carol", "limit and offset")
eq(lines(kb:select{ where = { { "?x", "knows", "?y" } }, vars = { "?x", "count(?y) as ?n" }, group = "?x",
  order = "-?n ?x" }:all(), true), "n=2 x=carol\nn=1 x=alice\nn=1 x=bob", "group and count")
eq(lines(kb:select{ where = { { "?x", "age", "?a" } }, vars = "sum(?a) avg(?a) min(?a) max(?a) count(distinct ?x)" }:all()),
  "avg_a=30.125 count_x=4 max_a=35.5 min_a=25 sum_a=120.5", "aggregates")

-- the text form is the same query
local pairs_ = {
  { "?x knows ?y . ?y knows ?z", { { "?x", "knows", "?y" }, { "?y", "knows", "?z" } } },
  { "?x knows ?y . optional { ?y member ?c }", { { "?x", "knows", "?y" }, { optional = { { "?y", "member", "?c" } } } } },
  { "?x knows ?y . without { ?y member ?c }", { { "?x", "knows", "?y" }, { without = { { "?y", "member", "?c" } } } } },
  { "{ ?x member club1 } union { ?x age 35.5 }", { { union = { { { "?x", "member", "club1" } }, { { "?x", "age", 35.5 } } } } } },
  { "?x age ?a . filter ?a > 29", { { "?x", "age", "?a" }, { filter = { "?a", ">", 29 } } } },
  { "?x name ?n . filter ?n match \"^A\"", { { "?x", "name", "?n" }, { filter = { "?n", "match", "^A" } } } },
  { "alice knows+/member ?c", { { "alice", "knows+/member", "?c" } } },
  { "?x name \"Bob\"", { { "?x", "name", lore.text("Bob") } } },
}
for _, p in ipairs(pairs_) do
  eq(kb:q(p[1]):json(), kb:query(p[2]):json(), p[1])
end
eq(kb:q("select ?x count(?y) as ?n where { ?x knows ?y } group by ?x order by -?n ?x"):json(),
  kb:select{ where = { { "?x", "knows", "?y" } }, vars = "?x count(?y) as ?n", group = "?x", order = "-?n ?x" }:json(),
  "select")
eq(kb:q("?x age ?a", { order = "?a", limit = 1 }):json(), '[\n  {"x":"bob","a":25}\n]', "text with options")

-- ---------------------------------------------------------------------------
-- results

local r = kb:q "?x age ?a . filter ?a < 31"
local n = 0
for row in r do n = n + 1 end
eq(n, 3, "iteration")
eq(r:count(), 3, "count")
eq(#r:all(), 3, "all runs again")
eq(r:columns(), { "x", "a" }, "columns")
eq(kb:q("?x age ?a", { order = "?a" }):first(), { x = "bob", a = 25 }, "first")
eq(kb:q("?x age 99"):first(), nil, "first of nothing")
eq(kb:q("?x knows ?y"):count(), 4, "count")
-- unbound values: absent in rows, null in JSON, "-" in print
eq(kb:q("?x age ?a . optional { ?x name ?n }", { order = "?x" }):json(), [=[
[
  {"x":"alice","a":30,"n":{"text":"Alice","lang":"en"}},
  {"x":"bob","a":25,"n":{"text":"Bob"}},
  {"x":"carol","a":35.5,"n":null},
  {"x":"dave","a":{"number":30},"n":null}
]]=], "json")
eq(tostring(kb:q("?x age ?a . optional { ?x born ?d }", { order = "?x" })), [[
x      a     d
-----  ----  ----------
alice  30    1990-05-01
bob    25    -
carol  35.5  -
dave   30.0  -
(4 rows)]], "printed")
eq(tostring(kb:q "?x age 99"), "x\n(no rows)", "printed, empty")
eq(kb:q("?x age 99"):json(), "[]", "json, empty")
eq(tostring(kb:q "alice knows bob"), "(1 row)", "a row of no columns")
eq(lore.pretty(kb:q "select count(*) where { ?x knows ?y }"), "count\n-----\n4\n(1 row)", "the REPL shows rows")
-- plans
local plan = kb:plan{ { "?x", "knows", "?y" }, { "?y", "member", "club2" } }
eq(plan, [[
plan (estimated rows: 1)
  1 ?y member club2  index (p o)  est 1
  2 ?x knows ?y      index (p o)  est 1]], "plan")
eq(kb:plan "?y member club2 . ?x knows ?y", plan, "written order does not matter")
eq(r:plan():find("filter ?a < 31", 1, true) ~= nil, true, "r:plan()")
-- reach
eq(lines(kb:reach("alice", "knows+"):all(), true), "depth=1 node=bob\ndepth=2 node=carol\ndepth=3 node=alice\ndepth=3 node=dave", "reach")
eq(lines(kb:reach("alice", "knows*", { depth = 1 }):all(), true), "depth=0 node=alice\ndepth=1 node=bob", "reach depth")
eq(kb:reach("nobody", "knows+"):count(), 0, "reach from nothing")

-- ---------------------------------------------------------------------------
-- bad queries

raises(function() kb:query{ { "?x", "knows" } } end,
  [[bad argument #1 to 'query' (where[1]: a pattern has 3 terms {s, p, o} (use "_" for any), got 2)]])
raises(function() kb:query{ { foo = {} } } end,
  "bad argument #1 to 'query' (where[1]: unknown operator 'foo' (expected filter, let, optional, without or union))")
raises(function() kb:query{ { optional = { { "?x", "knows", "?y" } }, without = {} } } end,
  "bad argument #1 to 'query' (where[1]: one operator per table, got 'optional' and 'without')")
raises(function() kb:query{ { "?x", "knows", "?y" }, fitler = 1 } end,
  "bad argument #1 to 'query' (unknown key 'fitler' (expected where, vars, distinct, group, order, limit, offset or filter))")
raises(function() kb:query{ { "?x", "knows", "?y" }, { optional = { { "?y", "knows", 1, 2 } } } } end,
  [[bad argument #1 to 'query' (where[2][1]: a pattern has 3 terms {s, p, o} (use "_" for any), got 4)]])
raises(function() kb:q "?c beneficiary ukraine . ?c amount" end,
  "bad argument #1 to 'q' (query:1:35: expected an object (a term or a variable), got end of text)")
raises(function() kb:q "?x knows ?y . filter ?y <> 3" end,
  "bad argument #1 to 'q' (query:1:26: expected a variable or a value, got '>')")
raises(function() kb:query{ { "?x", "knows", "?y" }, filter = { "?z", ">", 1 } } end,
  "bad argument #1 to 'query' (filter on ?z, which no pattern binds)")
raises(function() kb:query{ { "?x", "knows", "?y" }, filter = { "?x", "<>", 1 } } end,
  "bad argument #1 to 'query' (filter: unknown comparison '<>' (expected =, ~=, <, <=, >, >=, in or match))")
raises(function() kb:query{ { "?x", "knows", "?y" }, { filter = { "?x", "match", "[a" } } } end,
  [[bad argument #1 to 'query' (where[2]: match "[a": malformed pattern (missing ']'))]])
raises(function() kb:query{ { "?x", "knows", "?y" }, filter = { "?x", "in", { "?y" } } } end,
  "bad argument #1 to 'query' (filter: a set holds values, not variables ('?y'))")
raises(function() kb:query{ { "?x", "knows", "?y" }, vars = "?x", group = "?y" } end,
  "bad argument #1 to 'query' (?x is selected but neither grouped nor aggregated)")
raises(function() kb:query{ { "?x", "knows", "?y" }, limit = 1.5 } end,
  "bad argument #1 to 'query' (limit: a count expected, got number)")
raises(function() kb:q("?x knows ?y", { where = {} }) end,
  "bad argument #2 to 'q' (unknown key 'where' (the text holds the patterns))")
raises(function() kb:reach("alice", "knows(") end,
  "bad argument #2 to 'reach' (query:1:6: expected the end of the path (paths use / | ^ + * ? and parentheses), got '(')")
raises(function() kb:reach("alice", "knows", { depth = -1 }) end,
  "bad argument #3 to 'reach' (depth: a count of edges expected)")
raises(function() kb:reach("alice", "knows", { deep = 1 }) end,
  "bad argument #3 to 'reach' (unknown option 'deep' (expected depth))")
raises(function() kb:reach("alice", "knows", { [1] = 1 }) end,
  "bad argument #3 to 'reach' (unknown option '1' (expected depth))")
-- an error in a filter function comes through as it was raised
raises(function() kb:query{ { "?x", "knows", "?y" }, filter = function() error("boom", 0) end }:all() end, "boom")
local ok, err = pcall(function() kb:query{ { "?x", "knows", "?y" }, filter = function() error({ code = 7 }) end }:count() end)
eq(ok == false and err.code, 7, "an error object")
-- changing the kb while iterating
raises(function() for _ in kb:q "?x knows ?y" do kb:add("x", "knows", "y") end end,
  "the knowledge base changed during the query (collect the rows first, e.g. with :all())")
for _, row in ipairs(kb:q("?x knows ?y"):all()) do kb:add(row.y, "known_by", row.x) end
eq(kb:q("?x known_by ?y"):count(), 5, "changing after :all()")

-- ---------------------------------------------------------------------------
-- Lua patterns in C agree with string.find

local pk = lore.new()
local texts = { "Pologne", "La Haye", "2024-07-11", "a.b(c)", "  spaced  ", "x=1;y=22", "[brackets]",
  "éàü", "", "THE END", "f(a(b)c)", "a-b_c", "%percent%" }
local pats = { "^P", "e$", "^%d+%-%d%d", "%a+", "[%s]+", "^.-;", "%(.-%)", "%b()", "%f[%a]%a+",
  "[^%w%s]", "y=(%d+)", "^$", ".", "a%-b", "[a-c]+", "%u%u%u", "22$", "%%", "[]]", "[^%d]*$",
  "x?=1", "b_?c", "(%a)(%a)", "%w+%p", "é", "[éà]", "^%s*(.-)%s*$" }
for i, t in ipairs(texts) do pk:add("t" .. i, "is", lore.text(t)) end
for _, p in ipairs(pats) do
  local want = {}
  for i, t in ipairs(texts) do if t:find(p) then want[#want + 1] = "t" .. i end end
  table.sort(want)
  local got = {}
  for row in pk:query{ { "?s", "is", "?t" }, filter = { "?t", "match", p } } do got[#got + 1] = row.s end
  table.sort(got)
  eq(table.concat(got, " "), table.concat(want, " "), "match " .. p)
end

-- ---------------------------------------------------------------------------
-- the shipped knowledge base

local press = lore.new()
assert(press:load(arg[1] .. "/knowledge/press.json"))
eq(lines(press:q("?c beneficiary ukraine . ?c type Commitment . optional { ?c amount ?a . ?a value ?eur }"):all()),
  "a=pledge_base_funding c=security_assistance_pledge eur=40000000000.0\n" ..
  "c=bilateral_security_agreements\nc=membership_path_support\nc=nato_ukraine_jatec\nc=nsatu", "commitments to Ukraine")
eq(lines(press:q("select ?g count(?a) as ?n where { ?g signed ?a } group by ?g"):all()),
  "g=signatory_allies n=1", "agreements per signatory")
eq(lines(press:q("select ?b sum(?v) as ?total where { ?c beneficiary ?b . ?c amount ?a . ?a value ?v } group by ?b"):all()),
  "b=ukraine total=40000000000.0", "total per beneficiary")
eq(lines(press:q("?c type Count . ?c about ukraine . ?c value ?n . ?c as_of ?d"):all()),
  "c=signatory_count d=2024-07-11 n=20", "the count of signatories")
eq(press:q("?x type Country"):count(), 12, "countries")
eq(lines(press:q("select ?who count(?c) as ?n where { ?c type Commitment . ?c committed_by ?who } group by ?who order by -?n"):all(), true),
  "n=4 who=allies\nn=1 who=signatory_allies", "commitments per committer")
eq(lines(press:q("?m part_of+ washington_summit_2024 . ?m type Meeting"):all()),
  "m=nuc_meeting\nm=partners_meeting", "meetings of the summit")
eq(lines(press:q("?x label ?l . filter ?l match \"^Pol\""):all()), [[l="Pologne"@fr x=poland]], "a label")
eq(lines(press:q("?e type Event . ?e date ?d . filter ?d >= 2024-07-11"):all()),
  "d=2024-07-11 e=nuc_meeting\nd=2024-07-11 e=partners_meeting\n" ..
  "d=2024-07-11 e=washington_summit_2024\nd=2025 e=the_hague_summit_2025",
  "events from 11 July 2024")
do -- sentence ids sort as the text runs (symbols in natural order)
  local ids = {}
  for row in press:q("?s type Sentence order by ?s") do ids[#ids + 1] = row.s end
  eq(table.concat(ids, " "), "press:s1 press:s2 press:s3 press:s4 press:s5 press:s6 press:s7 " ..
    "press:s8 press:s9 press:s10 press:s11 press:s12 press:s13", "sentences in text order")
  eq(press:q("?s type Sentence . filter ?s > press:s9"):count(), 4, "s10 to s13 come after s9")
end
eq(press:reach("ukraine", "^beneficiary", { depth = 1 }):count(), 7, "what reaches Ukraine")

-- a star: one variable in 2,000 patterns (planning re-estimated every one of
-- them at each step: a star of 10,000 took 18 s to plan); the answer stands
do
  local star = lore.new()
  for i = 1, 100 do star:add("s" .. i, "p", "s" .. (i % 100 + 1)) end
  local parts = {}
  for i = 1, 2000 do parts[i] = "?x p ?v" .. i end
  eq(star:q(table.concat(parts, " . ")):count(), 100, "a star of 2,000 patterns")
  parts = {}
  for i = 1, 2000 do parts[i] = "?x p ?y" end
  eq(star:q("?w p ?x . " .. table.concat(parts, " . ")):count(), 100, "2,000 copies of one pattern")
end
