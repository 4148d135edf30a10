-- test_rules.lua - rules from Lua: the text and table forms and their
-- equivalence, kb:infer and its options, derived facts, proofs (printed as
-- trees, down to sentences, on the shipped knowledge base), triggers and a
-- trigger that raises, named and inline value functions, rule files
-- (.rules and JSON) with their exact messages, and every misuse.
local lore = require "lore"
local root = arg[1]
local check = dofile(root .. "/tests/lua/check.lua")
local eq, raises = check.eq, check.raises

local function facts(kb, p)
  local out = {}
  for s, _, o in kb:match(nil, p, nil) do out[#out + 1] = lore.show(s) .. " " .. lore.show(o) end
  table.sort(out)
  return table.concat(out, ", ")
end

local function family()
  local kb = lore.new()
  for _, e in ipairs { { "ann", "bob" }, { "bob", "cat" }, { "cat", "dan" }, { "eve", "bob" } } do
    kb:add(e[1], "parent", e[2], { source = "doc:" .. e[1] })
  end
  return kb
end

-- ---------------------------------------------------------------------------
-- the two forms, the same rules

local a, b = family(), family()
eq(a:rule "?x anc ?y :- ?x parent ?y", "anc", "text form gives the name")
eq(a:rule("?x anc ?z :- ?x parent ?y, ?y anc ?z", "anc_step"), "anc_step", "named")
eq(b:rule { name = "anc", when = { { "?x", "parent", "?y" } }, add = { "?x", "anc", "?y" } }, "anc", "table form")
eq(b:rule { when = { { "?x", "parent", "?y" }, { "?y", "anc", "?z" } }, add = { { "?x", "anc", "?z" } } },
  "anc_2", "default name")
local sa, sb = a:infer(), b:infer()
eq(sa.added, 9, "added")
eq(sa.full, true, "first inference is full")
eq(facts(a, "anc"), facts(b, "anc"), "text and table forms agree")
eq(facts(a, "anc"), "ann bob, ann cat, ann dan, bob cat, bob dan, cat dan, eve bob, eve cat, eve dan", "closure")
local rules = b:rules()
eq(#rules, 2, "two rules")
eq(rules[2].text, "?x anc ?z :- ?x parent ?y, ?y anc ?z", "a table rule's text")
eq(rules[1].closure, true, "a closure")
eq(rules[1].stratum, 1, "strata count from 1")

-- derived facts: marked, listed, dropped
local src = a:sources("ann", "anc", "dan")
eq(src.derived, true, "derived mark")
eq(src.asserted, false, "not asserted")
eq(#src, 0, "no sources")
local n = 0
for s, p, o in a:derived() do
  n = n + 1
  eq(p, "anc", "only derived facts")
end
eq(n, 9, "kb:derived")
n = 0
for _ in a:match(nil, nil, nil, { asserted = true }) do n = n + 1 end
eq(n, 4, "kb:match asserted only")
raises(function() a:match(nil, nil, nil, { foo = true }) end,
  "bad argument #4 to 'match' (unknown option 'foo' (expected derived or asserted))")
eq(a:clear_derived(), 9, "clear_derived")
eq(a:count(nil, "anc", nil), 0, "gone")
eq(a:infer().added, 9, "back")

-- changes settle incrementally
a:remove("bob", "parent", "cat")
local st = a:infer()
eq(st.full, false, "incremental")
eq(st.removed, 6, "removed")
eq(facts(a, "anc"), "ann bob, cat dan, eve bob", "after a removal")
a:add("dan", "parent", "ann")
eq(a:infer().added, 4, "after an addition")
eq(facts(a, "anc"), "ann bob, cat ann, cat bob, cat dan, dan ann, dan bob, eve bob", "closure again")
eq(a:retract_source("doc:ann"), 1, "retract")
a:infer()
eq(facts(a, "anc"), "cat ann, cat dan, dan ann, eve bob", "after a retraction")
eq(a:remove_rule("anc_step"), true, "remove_rule")
eq(a:remove_rule("anc_step"), false, "remove_rule twice")
eq(#a:rules(), 1, "one rule left")

-- ---------------------------------------------------------------------------
-- negation, aggregates, computed values, functions

local kb = lore.new()
for i, g in ipairs { "g1", "g1", "g1", "g2", "g2" } do kb:add("m" .. i, "member_of", g) end
kb:add("g2", "status", "closed")
kb:rule "?g size ?n :- select ?g count(?m) as ?n where { ?m member_of ?g } group by ?g"
kb:rule "?g open true :- ?g size _, without { ?g status closed }"
kb:rule "?g half ?h :- ?g size ?n, ?h = ?n / 2"
kb:fn("label", function(g, n) return lore.text(g .. " (" .. n .. ")", "en") end)
kb:rule "?g label ?l :- ?g size ?n, ?l = label(?g, ?n)"
kb:rule { name = "double", when = { { "?g", "size", "?n" }, { let = { "?d", function(n) return n * 2 end, "?n" } } },
  add = { "?g", "double", "?d" } }
kb:rule { name = "big", when = { { "?g", "size", "?n" }, { filter = function(r) return r.n > 2 end } },
  add = { "?g", "big", true } }
kb:infer()
eq(facts(kb, "size"), "g1 3, g2 2", "aggregate")
eq(facts(kb, "open"), "g1 true", "negation")
eq(facts(kb, "half"), "g1 1.5, g2 1", "arithmetic")
eq(facts(kb, "label"), 'g1 "g1 (3)"@en, g2 "g2 (2)"@en', "named function")
eq(facts(kb, "double"), "g1 6, g2 4", "let function")
eq(facts(kb, "big"), "g1 true", "filter function")
kb:add("m6", "member_of", "g2")
kb:remove("g2", "status", "closed")
kb:infer()
eq(facts(kb, "size"), "g1 3, g2 3", "aggregate kept up")
eq(facts(kb, "open"), "g1 true, g2 true", "negation kept up")
eq(facts(kb, "big"), "g1 true, g2 true", "filter kept up")
-- a function that raises: the error comes through as it was
kb:rule { name = "boom", when = { { "?g", "size", "?n" }, { let = { "?x", function() error("boom") end, "?n" } } },
  add = { "?g", "boom", "?x" } }
local ok, err = pcall(kb.infer, kb)
eq(ok, false, "raises")
eq(tostring(err):gsub("^.-:%d+: ", ""), "boom", "the function's own error")
eq(kb:remove_rule("boom"), true, "without it")
kb:infer()
eq(facts(kb, "double"), "g1 6, g2 6", "the next inference completes")

-- limits
local lim = lore.new()
lim:add("c", "num", 0)
lim:rule "?c num ?m :- ?c num ?n, ?m = ?n + 1"
raises(function() lim:infer { max = 50 } end, "more than 50 derived facts (kb:infer's max)")
eq(lim:count(nil, "num", nil) <= 51, true, "stopped")
raises(function() lim:infer { maximum = 5 } end, "bad argument #1 to 'infer' (unknown option 'maximum' (expected max or progress))")
do -- kb:infer{progress = fn}: each round, and false stops it
  local pk = lore.new()
  for i = 1, 50 do pk:add("n" .. i, "next", "n" .. (i + 1)) end
  pk:rule "?a far ?c :- ?a next ?b, ?b far ?c, filter ?a != ?b"
  pk:rule "?a far ?b :- ?a next ?b"
  local seen = {}
  local st = pk:infer { progress = function(rounds, derived) seen[#seen + 1] = rounds .. ":" .. derived end }
  eq(#seen, st.rounds, "called once a round")
  eq(seen[1], "1:50", "the first round: the edges")
  eq(seen[#seen], st.rounds .. ":" .. st.added, "the last: every fact")
  pk:clear_derived()
  raises(function() pk:infer { progress = function(r) return r < 3 end } end, "inference stopped by its progress function")
  raises(function() pk:infer { progress = function() error("in progress") end } end, "in progress")
  eq(pk:infer().added, 1275, "then a whole inference")
end

-- ---------------------------------------------------------------------------
-- proofs

local p = b:why("ann", "anc", "dan")
eq(tostring(p), [=[ann anc dan  [rule anc_2: ?x = ann, ?y = bob, ?z = dan]
  ann parent bob  [asserted: doc:ann]
  bob anc dan  [rule anc_2: ?x = bob, ?y = cat, ?z = dan]
    bob parent cat  [asserted: doc:bob]
    cat anc dan  [rule anc: ?x = cat, ?y = dan]
      cat parent dan  [asserted: doc:cat]]=], "a proof prints as a tree")
eq(p.rule, "anc_2", "its rule")
eq(p.bindings.y, "bob", "its bindings")
eq(p.premises[1].asserted, true, "an asserted premise")
eq(p.premises[1].sources[1], "doc:ann", "its source")
eq(p.premises[2].rule, "anc_2", "a derived premise")
eq(tostring(p.premises[2]), [=[bob anc dan  [rule anc_2: ?x = bob, ?y = cat, ?z = dan]
  bob parent cat  [asserted: doc:bob]
  cat anc dan  [rule anc: ?x = cat, ?y = dan]
    cat parent dan  [asserted: doc:cat]]=], "a sub-proof prints too")
local internal = debug.getregistry()["lore.internal"] -- the module's private half
eq(internal.render_proof(p), p.text, "the Lua and C renderings agree")
eq(tostring(b:why("ann", "parent", "bob")), "ann parent bob  [asserted: doc:ann]", "an asserted fact")
eq(b:why("ann", "anc", "nobody"), nil, "an absent fact")

-- the shipped knowledge base: derived facts down to the sentences
local shipped = lore.shipped()
local w = shipped:why("allies", "commits_to", "ukraine")
eq(tostring(w), [=[allies commits_to ukraine  [rule commits_to: ?c = membership_path_support, ?who = allies, ?whom = ukraine]
  membership_path_support type Commitment  [asserted: press:s7]
      press:s7: "Le secrétaire général a indiqué que les Alliés continueraient d’aider l’Ukraine à suivre sa trajectoire irréversible vers l’adhésion à l’OTAN."@fr
        translation: "The Secretary General said that the Allies would go on helping Ukraine along its irreversible path to NATO membership."@en
  membership_path_support committed_by allies  [asserted: press:s7]
  membership_path_support beneficiary ukraine  [asserted: press:s7]]=], "who committed what to whom, from s7")
eq(internal.render_proof(w), w.text, "renderings agree on the shipped kb")
-- a fact of press:inferred: the note that concludes it, its reason and sentence
eq(tostring(shipped:why("beijing", "in_country", "china")), [=[beijing in_country china  [rule in_country_capital: ?c = china, ?x = beijing]
  china capital beijing  [asserted: press:inferred]
      note inf:beijing_capital: "S5 names the partnership after Moscow and Beijing, the capitals standing for Russia and China (named in s3 and s4)."@en
      press:s5: "Dans la déclaration du sommet de Washington, les Alliés ont indiqué que le partenariat stratégique entre Moscou et Pékin « [suscitait] de profondes préoccupations »."@fr
        translation: "In the Washington Summit Declaration, the Allies said that the strategic partnership between Moscow and Beijing “[was] a cause of deep concern”."@en]=], "an inference note and its sentence")
eq(shipped:why("beijing", "in_country", "russia"), nil, "an absent fact")
w = shipped:why("nuc_meeting", "in_country", "united_states")
eq(w.rule, "in_country_part", "a place, transitively")
eq(w.premises[2].premises[2].premises[1].fact[2], "located_in", "down to located_in")
eq(w.premises[2].premises[2].premises[1].sources[1], "press:inferred", "an inferred fact's source")
w = shipped:why("the_hague_summit_2025", "year", 2025)
eq(tostring(w), [=[the_hague_summit_2025 year 2025  [rule year: ?e = the_hague_summit_2025, ?d = 2025, ?y = 2025]
  the_hague_summit_2025 date 2025  [asserted: press:s13]
      press:s13: "Le sommet que l’OTAN tiendra en 2025 se déroulera à La Haye, aux Pays-Bas."@fr
        translation: "The summit NATO will hold in 2025 will take place in The Hague, in the Netherlands."@en]=], "a year computed from a date")
-- every derived fact of the shipped kb has a proof down to asserted facts
local count = 0
for s, pr, o in shipped:derived() do
  local proof = shipped:why(s, pr, o)
  local function walk(q)
    if q.asserted then eq(#q.sources > 0, true, "a source") return end
    eq(q.rule ~= nil, true, "a rule for " .. lore.show(s) .. " " .. pr)
    for _, x in ipairs(q.premises) do walk(x) end
  end
  walk(proof)
  count = count + 1
end
eq(count, shipped:count() - 659, "every derived fact explained")

-- ---------------------------------------------------------------------------
-- triggers

local t = family()
t:rule "?x anc ?y :- ?x parent ?y"
t:rule "?x anc ?z :- ?x parent ?y, ?y anc ?z"
local log = {}
local h = t:on({ "?who", "anc", "dan" }, function(row, ev)
  log[#log + 1] = ev .. " " .. row.who .. " " .. row[2] .. " " .. row[3]
end, { added = true, removed = true })
eq(tostring(h), "lore.trigger", "a trigger")
t:infer()
table.sort(log)
eq(table.concat(log, "; "), "added ann anc dan; added bob anc dan; added cat anc dan; added eve anc dan", "added")
log = {}
t:remove("cat", "parent", "dan")
t:infer()
table.sort(log)
eq(table.concat(log, "; "), "removed ann anc dan; removed bob anc dan; removed cat anc dan; removed eve anc dan", "removed")
log = {}
local self = {}
t:on({ "?x", "parent", "?x" }, function(row) self[#self + 1] = row.x end) -- a repeated variable
t:add("zed", "parent", "zed")
t:add("zed", "parent", "amy")
t:infer()
eq(table.concat(self, ","), "zed", "a repeated variable joins")
eq(h:cancel(), true, "cancel")
eq(h:cancel(), false, "cancel twice")
t:add("cat", "parent", "dan")
t:infer()
eq(#log, 0, "a cancelled trigger is quiet")
-- a callback that raises: raised after the facts settled
local calls = 0
t:on({ "?x", "anc", "?y" }, function() calls = calls + 1 error("no thanks") end)
t:add("dan", "parent", "fay")
ok, err = pcall(t.infer, t)
eq(ok, false, "the error comes back")
eq(tostring(err):gsub("^.-:%d+: ", ""), "no thanks", "its message")
eq(calls, 5, "every event was still fired")
eq(t:count("ann", "anc", "fay"), 1, "the facts settled")
eq(t:infer().added, 0, "nothing pending, nothing fired again")
eq(calls, 5, "not fired twice")
raises(function() t:on({ "?x", "p" }, print) end, "bad argument #1 to 'on' (a pattern of 3 terms {s, p, o} expected (\"_\" for any))")
raises(function() t:on({ "?x", "p", "?y" }, print, { both = true }) end,
  "bad argument #3 to 'on' (unknown option 'both' (expected added or removed))")

-- ---------------------------------------------------------------------------
-- misuse and bad rules

local e = lore.new()
raises(function() e:rule "?x anc ?z :- ?x parent ?y" end,
  "bad argument #1 to 'rule' (rule anc: ?z is in the head but not bound by the body)")
raises(function() e:rule "?x anc ?y" end,
  "bad argument #1 to 'rule' (rule:1:10: expected ':-' between the head and the body, got end of text)")
raises(function() e:rule { when = { { "?x", "p", "?y" } } } end,
  "bad argument #1 to 'rule' (add: a pattern {s, p, o} or a list of them expected)")
raises(function() e:rule { add = { "?x", "q", "?y" } } end,
  "bad argument #1 to 'rule' (when: a query (a list of patterns) expected)")
raises(function() e:rule { when = { { "?x", "p", "?y" } }, add = { "?x", "q", "?y" }, then_ = 1 } end,
  "bad argument #1 to 'rule' (unknown key 'then_' (expected name, when and add))")
raises(function() e:rule { when = { { foo = 1 } }, add = { "?x", "q", "?y" } } end,
  "bad argument #1 to 'rule' (when[1]: unknown operator 'foo' (expected filter, let, optional, without or union))")
raises(function() e:rule { when = { { "?x", "p", "?y" } }, add = { "?x", "q" } } end,
  "bad argument #1 to 'rule' (add: patterns of 3 terms {s, p, o} expected)")
e:rule "a: ?x a ?y :- ?x p ?y, without { ?x b ?y }"
raises(function() e:rule "b: ?x b ?y :- ?x a ?y" end,
  "bad argument #1 to 'rule' (rules a, b: not stratifiable: a depends on b through negation, and b depends on a)")
raises(function() e:fn("year", print) end, "bad argument #1 to 'fn' ('year' is a builtin function)")

-- ---------------------------------------------------------------------------
-- rule files

local tmp = os.tmpname()
local function write(text)
  local f = assert(io.open(tmp .. ".rules", "w"))
  f:write(text)
  f:close()
  return tmp .. ".rules"
end
local r = lore.new()
r:add("a", "parent", "b")
r:add("b", "parent", "c")
local path = write [[
# ancestors
base: ?x anc ?y :- ?x parent ?y

step: ?x anc ?z :-
    ?x parent ?y,
    ?y anc ?z
]]
eq(r:load(path), 2, "a rule file")
r:infer()
eq(facts(r, "anc"), "a b, a c, b c", "its rules work")
path = write [[
good: ?x g ?y :- ?x parent ?y
bad: ?x h ?y :-
    ?x parent ?y,
    ?y parent
]]
local got, msg = r:load(path)
eq(got, nil, "a bad rule file")
eq(msg, path .. ":4:14: expected an object (a term or a variable), got end of text", "its message")
eq(#r:rules(), 2, "nothing of it stays")
path = write "oops: ?x h ?z :- ?x parent ?y\n"
got, msg = r:load(path)
eq(msg, path .. ":1: rule oops: ?z is in the head but not bound by the body", "a rule error")
os.remove(path)
-- rules in JSON
local jpath = tmp .. ".json"
local f = assert(io.open(jpath, "w"))
f:write [=[{"lore": 1, "rules": ["sym: ?y knows ?x :- ?x knows ?y"],
  "facts": [["a", "knows", "b"]]}]=]
f:close()
local j = lore.new()
eq(j:load(jpath), 1, "JSON with rules")
j:infer()
eq(facts(j, "knows"), "a b, b a", "JSON rules work")
f = assert(io.open(jpath, "w"))
f:write [[{"lore": 1, "rules": ["?y knows ?z :- ?x knows ?y"], "facts": []}]]
f:close()
got, msg = lore.new():load(jpath)
eq(msg, jpath .. ":1:23: rules[0]: rule knows: ?z is in the head but not bound by the body", "a JSON rule error")
f = assert(io.open(jpath, "w"))
f:write [=[{"lore": 1, "rules": ["ok: ?y k ?x :- ?x knows ?y"], "facts": [["a"]]}]=]
f:close()
j = lore.new()
got, msg = j:load(jpath)
eq(got, nil, "bad facts")
eq(#j:rules(), 0, "its rules taken back")
os.remove(jpath)
os.remove(tmp)
do -- a closure kept edge by edge (one new edge an inference: read from the closure itself),
   -- with removals between, always what a fresh inference gives
  local inc = lore.new()
  inc:rule "?a r ?b :- ?a e ?b"
  inc:rule "?a r ?c :- ?a e ?b, ?b r ?c"
  inc:infer()
  local seed = 12345
  local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n end
  for step = 1, 400 do
    local a, b = "n" .. rnd(80), "n" .. rnd(80)
    if step % 7 == 0 then
      for s, _, o in inc:match(a, "e", nil) do inc:remove(s, "e", o) break end
    else
      inc:add(a, "e", b)
    end
    inc:infer()
  end
  local fresh = lore.new()
  for s, p, o in inc:match(nil, "e", nil) do fresh:add(s, p, o) end
  fresh:rule "?a r ?b :- ?a e ?b"
  fresh:rule "?a r ?c :- ?a e ?b, ?b r ?c"
  fresh:infer()
  eq(inc:count(nil, "r", nil), fresh:count(nil, "r", nil), "edge by edge: as many pairs")
  for s, p, o in fresh:match(nil, "r", nil) do
    if inc:count(s, p, o) == 0 then error("edge by edge: missing " .. s .. " r " .. o) end
  end
end

print("rules: ok")
