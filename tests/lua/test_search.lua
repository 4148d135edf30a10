-- test_search.lua - finding things in the shipped knowledge base: kb:search
-- folds case and accents and stems French and English words, matches
-- symbols' names, ranks names and labels first; kb:describe shows an
-- entity both ways with its sentences; kb:dot draws a neighbourhood.
local lore = require "lore"
local root = arg[1]
local check = dofile(root .. "/tests/lua/check.lua")
local eq, raises = check.eq, check.raises
local kb = lore.new()
assert(kb:load(root .. "/knowledge/press.json"))
assert(kb:load(root .. "/knowledge/press.rules"))
kb:infer()

local function entities(q, opts)
  local out = {}
  for i, h in ipairs(kb:search(q, opts)) do out[i] = h.entity .. ":" .. h.score end
  return table.concat(out, " ")
end

eq(entities("coree"), "north_korea:3 press:s3:1", "coree: no accent")
eq(entities("CORÉE"), "north_korea:3 press:s3:1", "CORÉE: capitals and accent")
eq(entities("nsatu"), "nsatu:3", "nsatu: a symbol's name")
eq(entities("pologne"), "poland:3 press:s12:1 statement_centre_decision:1", "pologne")
eq(entities("engagements"), "security_assistance_pledge:3 press:s9:1 press:s10:1 statement_pledge_effects:1",
  "engagements: the plural finds the singular (a stem)")
eq(entities("la haye"), "the_hague:6 press:s13:2", "two words: every one")
eq(entities("Moscow"), "inf:moscow_capital:3 moscow:3 statement_russia_china_concern:3 inf:beijing_capital:1 press:s5:1",
  "an English name, symbols, notes, and a translation")
eq(entities("zzzz"), "", "nothing")
eq(entities("engagement", { limit = 2 }), "security_assistance_pledge:3 press:s9:1", "a limit")
local h = kb:search("pologne")[1]
eq({ h.entity, h.p, lore.show(h.o), h.source }, { "poland", "label", '"Pologne"@fr', "press:s12" }, "a hit's fact and source")
eq(tostring(kb:search("nsatu")), "entity  score  where\n------  -----  ----------\nnsatu   3      (its name)\n(1 match)", "hits print")
eq(tostring(kb:search("zzzz")), "(no matches)", "no hits print")
raises(function() kb:search(42) end, "bad argument #1 to 'search' (words expected)")
-- the index follows the knowledge base
kb:add("kraków", "label", lore.text("Cracovie", "fr"))
eq(entities("cracovie"), "kraków:3", "a new fact is found")

eq(kb:describe("the_hague"), [=[the_hague (The Hague)
  in_country: netherlands (Netherlands) [derived]
  label: "La Haye"@fr [press:s13]
  located_in: netherlands (Netherlands) [press:s13]
  name: "The Hague"@en [press:s13]
  type: City [press:s13]
  <- place: the_hague_summit_2025 (NATO Summit in The Hague, 2025) [press:s13]]=], "describe")
eq(kb:describe("nobody"), "nobody\n  (no facts)", "describe an unknown")
eq(kb:describe("the_hague", { lang = "fr" }):match("^[^\n]+"), "the_hague (La Haye)", "describe in French")

local dot = kb:dot("the_hague")
eq(dot, [[digraph lore {
  node [shape=box, fontname="Helvetica"];
  edge [fontname="Helvetica"];
  n1 [label="The Hague"];
  n2 [label="City"];
  n3 [label="Netherlands"];
  n4 [label="NATO Summit in The Hague, 2025"];
  n1 -> n2 [label="type"];
  n1 -> n3 [label="located_in"];
  n1 -> n3 [label="in_country", style=dashed];
  n4 -> n1 [label="place"];
}
]], "dot, derived edges dashed")
local two = kb:dot("the_hague", { depth = 2, predicates = { "place", "located_in" } })
assert(two:find('n1 -> n2 [label="located_in"]', 1, true), two)
eq(select(2, two:gsub(" %-> ", "")), 2, "only the predicates asked for")
if os.execute("command -v dot >/dev/null 2>&1") then -- Graphviz reads it
  for _, d in ipairs { dot, two, kb:dot("poland", { depth = 2 }) } do
    local name = os.tmpname()
    local f = assert(io.open(name, "w"))
    f:write(d)
    f:close()
    local ok = os.execute("dot -Tsvg " .. name .. " > /dev/null 2>&1")
    os.remove(name)
    assert(ok, "dot read the DOT")
  end
else
  print("test_search: Graphviz's dot is not installed: the DOT is not drawn")
end
print("test_search: ok")
