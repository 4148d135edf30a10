-- test_persist.lua - snapshots, durable mode and transactions from Lua:
-- kb:save, lore.open, kb:load of .lore files, journals and their warnings,
-- kb:checkpoint, kb:transaction, and the exact errors of each.
local lore = require "lore"
local check = dofile(arg[1] .. "/tests/lua/check.lua")
local eq, raises, rows = check.eq, check.raises, check.rows

local base = os.tmpname()
local files = {}
local function file(suffix)
  local p = base .. suffix
  files[#files + 1] = p
  files[#files + 1] = p .. "-journal"
  return p
end
local function slurp(p)
  local f = assert(io.open(p, "rb"))
  local s = f:read("a")
  f:close()
  return s
end
local function spit(p, s)
  local f = assert(io.open(p, "wb"))
  f:write(s)
  f:close()
end

-- every kind of term, sources, language tags: saved and opened, identical
local kb = lore.new()
local fr = lore.text("Pologne", "fr")
kb:add("poland", "label", fr, { source = "press:s1" })
kb:add("poland", "label", fr, { source = "press:s2" })
kb:add("poland", "label", fr)
kb:add("poland", "population", 36753736)
kb:add("poland", "area_km2", 312696.5)
kb:add("poland", "member", true)
kb:add("poland", "joined", lore.date("1999-03-12"), { source = "press:s3" })
local snap = file(".lore")
eq(kb:save(snap), true, "save")
local opened, warning = lore.open(snap)
eq(warning, nil, "no warning")
eq(#opened, 5, "facts opened")
eq(rows(opened:match()), rows(kb:match()), "the same facts")
eq(opened:sources("poland", "label", fr), { "press:s1", "press:s2", asserted = true, derived = false, default = true },
  "the same sources")

-- kb:load of a .lore file merges it, as any load
local other = lore.new()
other:add("poland", "member", true, { source = "press:s9" })
other:add("france", "member", true)
eq(other:load(snap), 4, "new facts from the snapshot")
eq(#other, 6, "merged")
eq(other:sources("poland", "member", true), { "press:s9", asserted = true, derived = false, default = true },
  "sources united")

-- expected failures: nil and a message naming the file
local nowhere = base .. "-missing/x.lore"
eq({ kb:save(nowhere) }, { nil, nowhere .. ": cannot create a temporary file beside it: No such file or directory" },
  "save into a missing directory")
eq({ lore.open(base .. ".none") }, { nil, base .. ".none: No such file or directory" }, "open a missing file")
local good = slurp(snap)
local bad = file("-bad.lore")
spit(bad, good:sub(1, #good - 36))
eq({ lore.open(bad) }, { nil, bad .. ": truncated (no end section)" }, "truncated")
spit(bad, good:sub(1, -2) .. string.char(good:byte(-1) ~ 1))
eq({ lore.open(bad) }, { nil, bad .. ": checksum mismatch in section end" }, "damaged")
eq({ lore.new():load(bad) }, { nil, bad .. ": checksum mismatch in section end" }, "load of a damaged file")
spit(bad, "not a snapshot at all")
eq({ lore.open(bad) }, { nil, bad .. ": not a lore snapshot (bad magic number)" }, "not a snapshot")

-- misuse raises
raises(function() lore.open(snap, { jornal = true }) end,
  "bad argument #2 to 'open' (unknown option 'jornal' (expected journal, sync))", "unknown option")
raises(function() lore.open(snap, { journal = true, sync = "sometimes" }) end,
  "bad argument #2 to 'open' (sync: expected 'change', 'commit', 'none' or milliseconds (1 to 3600000))",
  "bad sync")
raises(function() lore.open(snap, { sync = "none" }) end,
  "bad argument #2 to 'open' (sync: only with journal = true)", "sync without journal")
raises(function() lore.new():checkpoint() end,
  "checkpoint: the knowledge base was not opened from a file (lore_open; lore_save saves to a file)",
  "checkpoint of a kb without a file")

-- transactions: all of fn's changes, or none
local t = lore.new()
eq({ t:transaction(function(k, a, b)
  k:add("a", "b", "c")
  k:add("c", "b", a)
  return a + b, "done"
end, 1, 2) }, { 3, "done" }, "results of fn")
eq(#t, 2, "committed")
local boom = { reason = "boom" }
local ok, err = pcall(t.transaction, t, function(k)
  k:add("x", "y", "z")
  k:remove("a", "b", "c")
  error(boom)
end)
eq(ok, false, "raised")
eq(rawequal(err, boom), true, "the same error value")
eq(rows(t:match()), { { "a", "b", "c" }, { "c", "b", 1 } }, "nothing of fn stays")
raises(function() t:transaction(function(k) k:transaction(function() end) end) end,
  "transaction: a transaction is already open (they do not nest)", "no nesting")
eq(#t, 2, "the outer transaction rolled back too")
raises(function() t:transaction() end,
  "bad argument #1 to 'transaction' (function expected, got no value)", "fn is required")
raises(function() t:transaction(function(k) k:save(snap) end) end,
  "save: a transaction is open", "no save inside a transaction")

-- durable mode: every change journaled, replayed on open
local durable = file("-d.lore")
do
  local d <close> = lore.open(durable, { journal = true })
  eq(#d, 0, "a new durable kb")
  d:add("nato", "held", "summit", { source = "press:s1" })
  d:transaction(function(k)
    k:add("nato", "in", "washington")
    k:add("summit", "on", lore.date("2024-07-10"))
  end)
  pcall(d.transaction, d, function(k) k:add("never", "seen", "this") error("no") end)
  local b = d:batch()
  b:add("kyiv", "gets", 40, "press:s2")
  b:commit()
  d:remove("nato", "held", "summit")
end
do
  local d <close>, w = lore.open(durable, { journal = true, sync = "commit" })
  eq(w, nil, "clean reopen")
  eq(rows(d:match()), {
    { "kyiv", "gets", 40 }, { "nato", "in", "washington" }, { "summit", "on", lore.date("2024-07-10") },
  }, "replayed")
  eq(d:count("never"), 0, "the rolled back transaction is not there")
  eq({ lore.open(durable, { journal = true }) },
    { nil, durable .. ": already open in durable mode (" .. durable .. "-journal is locked)" },
    "one durable handle at a time")
end
-- a torn last record: discarded, with a warning as a second value
local j = slurp(durable .. "-journal")
spit(durable .. "-journal", j .. "\5\0\0\0garbage")
do
  local d <close>, w = lore.open(durable, { journal = true, sync = 20 })
  eq(w, durable .. "-journal: discarded a torn last record at offset " .. #j .. " (11 bytes)", "warning")
  eq(#d, 3, "everything before it")
  d:add("after", "the", "tear")
  eq(d:checkpoint(), true, "checkpoint")
  eq(#slurp(durable .. "-journal"), 32, "journal emptied")
  eq(d:sync(), true, "sync")
end
do
  local d <close> = lore.open(durable)
  eq(#d, 4, "the checkpoint holds everything")
  eq(d:count("after"), 1, "the change after the tear")
end

-- prefixes are saved, merged and journaled; changing one moves names
do
  local pk = lore.new()
  pk:add("ex:a", "p", 1) -- before the prefix exists: a plain name
  pk:prefix("ex", "http://example.org/")
  pk:add("ex:a", "p", 2) -- now an IRI: not the plain name cached above
  eq(rows(pk:match(nil, "p", nil)), { { "<http://example.org/a>", "p", 2 }, { "ex:a", "p", 1 } },
    "a prefix bound later changes what the name means")
  local snap = file("-prefixes.lore")
  eq(pk:save(snap), true, "save with prefixes")
  local back <close> = lore.open(snap)
  eq(back:prefixes(), { ex = "http://example.org/" }, "prefixes restored")
  eq(back:count("ex:a", "p", 2), 1, "and usable")
  local into = lore.new()
  into:add("x", "y", "z")
  eq(into:load(snap), 2, "merged")
  eq(into:prefixes(), { ex = "http://example.org/" }, "prefixes merged")
  local durable2 = file("-prefixes-durable.lore")
  do
    local d <close> = lore.open(durable2, { journal = true })
    d:prefix("q", "http://q.org/")
    d:add("q:x", "q:y", "q:z")
    d:prefix("gone", "http://gone.org/")
    d:transaction(function() d:prefix("gone", false) end) -- unbinding is journaled, even in a transaction
  end
  local d <close> = lore.open(durable2, { journal = true })
  eq(d:prefixes(), { q = "http://q.org/" }, "prefixes replayed from the journal")
  eq(rows(d:match()), { { "<http://q.org/x>", "<http://q.org/y>", "<http://q.org/z>" } }, "facts replayed")
end

for _, p in ipairs(files) do os.remove(p) end
os.remove(base)
print("ok")
