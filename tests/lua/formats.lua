-- formats.lua - files and formats from Lua: kb:load for every format,
-- kb:export round trips, JSON out, malformed files (exact messages, kb
-- unchanged), prefixes and compaction, progress, sources.
-- Run by ctest as `lore --empty formats.lua` in tests/data.
local lore = require "lore"

local tmp = os.tmpname()
os.remove(tmp)
assert(os.execute("mkdir -p " .. tmp))

local passed = 0
local function check(name, fn)
  fn()
  passed = passed + 1
  print("ok " .. passed .. " " .. name)
end

local function eq(got, want, what)
  if got ~= want then
    error(string.format("%s: got %s, want %s", what or "value", tostring(got), tostring(want)), 2)
  end
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- A knowledge base as text, through the JSON writer (itself checked
-- against the C tests' independent dump).
local function snapshot(kb)
  local path = tmp .. "/snapshot.json"
  assert(kb:export(path))
  return read(path)
end

local fixtures = {
  { "formats/all.nt", 49 }, { "formats/all.nq", 8 }, { "formats/all.ttl", 35 },
  { "formats/all.trig", 11 }, { "formats/all.json", 20 },
}

check("every format loads, by extension", function()
  for _, f in ipairs(fixtures) do
    local kb = lore.new()
    local n = assert(kb:load(f[1]))
    eq(#kb, f[2], f[1])
    assert(n >= f[2], f[1])
  end
end)

check("format -> lore -> same format -> lore gives identical stores", function()
  for _, f in ipairs(fixtures) do
    local ext = f[1]:match("%.(%w+)$")
    local kb1, kb2 = lore.new(), lore.new()
    assert(kb1:load(f[1]))
    local out1, out2 = tmp .. "/one." .. ext, tmp .. "/two." .. ext
    assert(kb1:export(out1))
    assert(kb2:load(out1))
    assert(kb2:export(out2))
    eq(read(out2), read(out1), f[1] .. " written twice")
    eq(snapshot(kb2), snapshot(kb1), f[1] .. " stores")
  end
end)

check("JSON output is deterministic and keeps every kind of term", function()
  local a, b = lore.new(), lore.new()
  local facts = {
    { "nato", "members", 32 }, { "nato", "budget", 1.5 }, { "nato", "round", 3.0 },
    { "nato", "big", math.maxinteger }, { "nato", "name", lore.text("OTAN", "fr") },
    { "nato", "founded", lore.date("1949-04-04") }, { "nato", "active", true },
    { "<http://example.org/x>", "p", "_:b0" },
  }
  for i = 1, #facts do a:add(table.unpack(facts[i])) end
  for i = #facts, 1, -1 do b:add(facts[i][1], facts[i][2], facts[i][3], { source = i % 2 == 0 and "s2" or nil }) end
  for i = 1, #facts, 2 do b:remove(facts[i][1], facts[i][2], facts[i][3], { source = "s2" }) end
  b:add("nato", "members", 32, { source = "s1" })
  b:remove("nato", "members", 32, { source = "s1" })
  for i = #facts, 1, -1 do b:add(facts[i][1], facts[i][2], facts[i][3]) end
  for i = 2, #facts, 2 do b:remove(facts[i][1], facts[i][2], facts[i][3], { source = "s2" }) end
  eq(snapshot(b), snapshot(a), "same facts, other order")
  local text = snapshot(a)
  assert(text:find('["nato", "round", {"number": 3}]', 1, true), text)
  assert(text:find('["nato", "big", {"integer": "9223372036854775807"}]', 1, true), text)
  local c = lore.new()
  assert(c:load(tmp .. "/snapshot.json"))
  eq(c:count("nato", "round", 3.0), 1, "3.0 stays a number")
  eq(c:count("nato", "round", 3), 0, "and is not the integer 3")
  eq(c:count("nato", "big", math.maxinteger), 1, "integers beyond 2^53 exact")
end)

-- messages.txt lists each malformed file with its exact message.
local bad = {}
for line in io.lines("bad/messages.txt") do
  local file = line:match("^([^#:][^:]*):")
  if file then bad[#bad + 1] = { file, line } end
end

check("malformed files: exact message, knowledge base unchanged", function()
  local kb = lore.new()
  assert(kb:load("formats/all.json"))
  assert(kb:load("formats/all.ttl"))
  local before, size = snapshot(kb), #kb
  local prefixes = kb:prefixes()
  for _, b in ipairs(bad) do
    local ok, msg = kb:load("bad/" .. b[1])
    eq(ok, nil, b[1])
    eq(msg, "bad/" .. b[2], b[1])
    eq(#kb, size, b[1] .. " size")
  end
  eq(snapshot(kb), before, "after every malformed file")
  local after = kb:prefixes()
  for k, v in pairs(prefixes) do eq(after[k], v, "prefix " .. k) end
  for k in pairs(after) do assert(prefixes[k], "new prefix " .. k) end
  assert(#bad >= 35)
end)

check("unknown formats and missing files", function()
  local kb = lore.new()
  local ok, msg = kb:load("bad/messages.txt")
  eq(ok, nil)
  eq(msg, "bad/messages.txt: unknown format 'txt' (expected one of: json, lore, nq, nquads, nt, "
    .. "ntriples, rules, trig, ttl, turtle)")
  ok, msg = kb:load("formats/nothing.nt")
  eq(msg, "formats/nothing.nt: No such file or directory")
  ok, msg = kb:export(tmp .. "/out.xyz")
  eq(ok, nil)
  eq(msg, tmp .. "/out.xyz: unknown format (expected a name ending in .nt, .nq, .ttl, .trig or "
    .. ".json, or a format in the options)")
  ok, msg = kb:export(tmp .. "/out", { format = "rdfxml" })
  eq(msg, tmp .. "/out: unknown format 'rdfxml' (expected one of: json, nq, nt, trig, ttl)")
  assert(kb:load("formats/all.nt"))
  eq(kb:export(tmp .. "/out", { format = "turtle" }), 49)
  local kb2 = lore.new()
  assert(kb2:load(tmp .. "/out", { format = "ttl" }))
  eq(#kb2, 49)
end)

check("prefixes: bind, expand, compact, list, unbind", function()
  local kb = lore.new()
  eq(kb:prefix("ex", "http://example.org/"), kb)
  eq(kb:prefix("ex"), "http://example.org/")
  kb:add("ex:Ally", "ex:member", "nato")
  eq(kb:count("<http://example.org/Ally>", nil, nil), 1)
  for s, p, o in kb:match(nil, "ex:member", nil) do
    eq(s, "<http://example.org/Ally>")
    eq(kb:compact(s), "ex:Ally")
    eq(lore.show(p, kb), "ex:member")
    eq(kb:compact(o), "nato")
  end
  eq(kb:compact(42), 42)
  -- queries read ex:name as kb:match does
  local n = 0
  for row in kb:query{ { "?who", "ex:member", "nato" } } do
    eq(row.who, "<http://example.org/Ally>")
    n = n + 1
  end
  eq(n, 1)
  kb:prefix("", "http://default/")
  local p = kb:prefixes()
  eq(p.ex, "http://example.org/")
  eq(p[""], "http://default/")
  eq(kb:prefix("ex", false), kb)
  eq(kb:prefix("ex"), nil)
  eq(kb:compact("<http://example.org/Ally>"), "<http://example.org/Ally>")
  local ok, err = pcall(function() return kb:prefix("9x", "http://x/") end)
  eq(ok, false)
  assert(err:find("bad argument #1 to 'prefix' (expected a prefix name", 1, true), err)
  ok, err = pcall(function() return kb:prefix("x", "http://a b/") end)
  assert(err:find("bad argument #2 to 'prefix' (expected a namespace IRI", 1, true), err)
  -- Turtle's prefixes are bound by the load and used when printing
  local t = lore.new()
  assert(t:load("formats/all.ttl"))
  eq(t:prefix("ex"), "http://example.org/")
  local rows = {}
  for s, p2, o in t:match(nil, "ex:members", nil) do rows[#rows + 1] = { s, p2, o } end
  eq(lore.tabulate(rows, nil, { kb = t }), "ex:alliance  ex:members  32")
end)

check("the REPL shows IRIs compacted with the global kb's prefixes", function()
  local saved = rawget(_G, "kb")
  _G.kb = lore.new()
  kb:prefix("ex", "http://example.org/")
  eq(lore.show("<http://example.org/x>"), "ex:x")
  eq(lore.pretty((kb:match(nil, nil, nil))), "(no facts)")
  kb:add("ex:a", "ex:b", "ex:c")
  eq(lore.pretty((kb:match(nil, nil, nil))), "ex:a  ex:b  ex:c\n(1 fact)")
  _G.kb = saved
end)

check("progress: called as the file is read; false stops; errors propagate", function()
  local kb = lore.new()
  local calls, last = 0, 0
  local n = assert(kb:load("formats/all.nt", { progress = function(bytes, total, facts)
    calls = calls + 1
    assert(bytes >= last)
    last = bytes
    eq(total, #read("formats/all.nt"))
    assert(facts >= 0)
  end }))
  assert(calls >= 1)
  eq(last, #read("formats/all.nt"))
  eq(n, 50)
  local k2 = lore.new()
  local ok, msg = k2:load("formats/all.nt", { progress = function() return false end })
  eq(ok, nil)
  eq(msg, "formats/all.nt: load interrupted")
  eq(#k2, 0)
  local good, err = pcall(k2.load, k2, "formats/all.nt", { progress = function() error("stop here") end })
  eq(good, false)
  assert(err:find("stop here"), err)
  eq(#k2, 0)
  assert(k2:load("formats/all.nt")) -- the kb is usable afterwards
  eq(#k2, 49)
end)

check("a source for facts outside any graph, in RDF and JSON", function()
  local kb = lore.new()
  assert(kb:load("formats/all.nq", { source = "import" }))
  local s = kb:sources("<http://example.org/a>", "<http://example.org/p>", lore.text("default graph"))
  eq(s[1], "import")
  eq(s.default, false)
  assert(kb:load("formats/all.json", { source = "json-import" }))
  s = kb:sources("nato", "type", "Alliance")
  eq(table.concat(s, " "), "json-import press:s2")
  eq(kb:retract_source("import") > 0, true)
  local ok, err = pcall(kb.load, kb, "formats/all.nt", { source = {} })
  eq(ok, false)
  assert(err:find("source: a term expected", 1, true), err)
end)

os.execute("rm -rf " .. tmp)
print(string.format("%d checks passed", passed))
