-- test_files_hostile.lua - files and values a hostile user would give:
-- directories and devices as files, integers a double cannot hold, keys
-- given twice, binary input, locked and unwritable paths.  Each is an
-- expected failure: nil and its exact message, the kb left as it was.
local lore = require "lore"
local root = arg[1]
local check = dofile(root .. "/tests/lua/check.lua")
local eq, rows = check.eq, check.rows
local bad = root .. "/tests/data/bad/"

local kb = lore.new()
kb:add("a", "b", "c")
kb:add("a", "n", 7)
local before, count = rows(kb:match()), #kb
local function unchanged(what)
  eq(#kb, count, what .. ": count unchanged")
  eq(rows(kb:match()), before, what .. ": content unchanged")
end

local tmp = os.tmpname()
os.remove(tmp)
assert(os.execute("mkdir " .. tmp), "mkdir")

-- a directory, with the name of every format
for _, ext in ipairs { "json", "ttl", "nt", "nq", "trig", "lore" } do
  local dir = tmp .. "/x." .. ext
  assert(os.execute("mkdir " .. dir))
  eq({ kb:load(dir) }, { nil, dir .. ": is a directory" }, "directory ." .. ext)
  unchanged("directory ." .. ext)
end
-- a device and a FIFO: refused before any read (neither ends)
eq({ kb:load("/dev/urandom", { format = "json" }) },
  { nil, "/dev/urandom: not a regular file (a device, a FIFO or a socket)" }, "device")
unchanged("device")
local fifo = tmp .. "/fifo.nt"
if os.execute("mkfifo " .. fifo .. " 2>/dev/null") then
  eq({ kb:load(fifo) }, { nil, fifo .. ": not a regular file (a device, a FIFO or a socket)" }, "FIFO")
  unchanged("FIFO")
end
-- missing, empty and truncated files
eq({ kb:load(tmp .. "/missing.json") }, { nil, tmp .. "/missing.json: No such file or directory" },
  "missing file")
local function spit(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end
spit(tmp .. "/empty.json", "")
eq({ kb:load(tmp .. "/empty.json") }, { nil, tmp .. "/empty.json:1:1: expected value, found the end of the file" },
  "empty file")
spit(tmp .. "/cut.json", '{"lore": 1, "facts": [["a", "b", "x"], ["a", "b"')
eq({ kb:load(tmp .. "/cut.json") },
  { nil, tmp .. "/cut.json:1:49: expected comma or array end, found the end of the file" }, "truncated file")
spit(tmp .. "/cut.lore", "LORE")
local ok, msg = kb:load(tmp .. "/cut.lore")
eq(ok, nil, "truncated snapshot")
eq(type(msg), "string", "truncated snapshot message")
unchanged("missing, empty, truncated")

-- values a decoder would change silently, binary input, nesting
local T = 'expected a number a double holds exactly, got %s (write an integer beyond 2^53 as {"integer": "%s"})'
local cases = {
  { "beyond-2-53.json", ":2:14: " .. T:format("9007199254740993", "9007199254740993") },
  { "int64-max-number.json", ":2:14: " .. T:format("9223372036854775807", "9223372036854775807") },
  { "beyond-64-bits.json", ":2:14: expected an integer within 64 bits, got 123456789012345678901234" },
  { "duplicate-key.json", ":2:15: expected each key once in an object, got 'source' twice" },
  { "duplicate-term-key.json", ":2:42: expected each key once in an object, got 'text' twice" },
  { "deep.json", ":1:1021: nesting deeper than 1000" },
  { "nul-bytes.nt", ":1:1: expected text, found a NUL byte (a binary file?)" },
  { "nul-in-line.nt", ":2:25: expected text, found a NUL byte (a binary file?)" },
}
for _, c in ipairs(cases) do
  local file = bad .. c[1]
  eq({ kb:load(file) }, { nil, file .. c[2] }, c[1])
  unchanged(c[1])
end

-- an object of more keys than any in the format (the search for a key
-- given twice stays short)
local keys = {}
for i = 1, 100 do keys[i] = '"k' .. i .. '": 1' end
spit(tmp .. "/keys.json", '{"lore": 1, "facts": [["a", "b", {' .. table.concat(keys, ", ") .. "}]]}")
eq({ kb:load(tmp .. "/keys.json") }, { nil, tmp .. "/keys.json:1:" .. (35 + #table.concat(keys, ", ", 1, 64) + 2)
  .. ": expected at most 64 keys in an object" }, "many keys")
unchanged("many keys")

-- the exact form holds every 64-bit integer, and export writes it
spit(tmp .. "/exact.json", '{"lore": 1, "facts": [["t", "max", {"integer": "9223372036854775807"}],\n'
  .. '["t", "min", {"integer": "-9223372036854775808"}], ["t", "odd", {"integer": "9007199254740993"}],\n'
  .. '["t", "even", 9007199254740994]]}')
local k2 = lore.new()
eq(k2:load(tmp .. "/exact.json"), 4, "exact integers load")
eq(k2:match("t", "max", nil)(), "t", "max")
eq(k2:count("t", "max", math.maxinteger), 1, "int64 max exact")
eq(k2:count("t", "min", math.mininteger), 1, "int64 min exact")
eq(k2:count("t", "odd", 9007199254740993), 1, "2^53 + 1 exact")
eq(k2:count("t", "even", 9007199254740994), 1, "a double that holds it exactly is taken")
eq(k2:export(tmp .. "/back.json"), 4, "export")
local k3 = lore.new()
eq(k3:load(tmp .. "/back.json"), 4, "exported integers read back")
eq(rows(k3:match()), rows(k2:match()), "round trip exact")
local f = assert(io.open(tmp .. "/back.json", "rb"))
local text = f:read("a")
f:close()
eq(text:find('{"integer": "9223372036854775807"}', 1, true) ~= nil, true, "export writes the exact form")

-- saving and exporting where it cannot be written
eq({ kb:save(tmp) }, { nil, tmp .. ": cannot rename the temporary file over it: Is a directory" }, "save over a directory")
local durable = tmp .. "/d.lore"
do
  local d <close> = lore.open(durable, { journal = true })
  d:add("x", "y", "z")
  eq({ kb:save(durable) }, { nil, "save: " .. durable .. " is open in durable mode (by another handle, or by "
    .. "this one under another name: checkpoint it instead)" }, "save over a locked path")
  eq({ lore.open(durable, { journal = true }) },
    { nil, durable .. ": already open in durable mode (" .. durable .. "-journal is locked)" }, "open a locked path")
end
unchanged("save")
local ro = tmp .. "/missing-dir/out.json"
eq({ kb:export(ro) }, { nil, ro .. ": No such file or directory" }, "export into a missing directory")
eq({ kb:export(tmp .. "/x.json") }, { nil, tmp .. "/x.json: Is a directory" }, "export over a directory")
unchanged("export")

os.execute("rm -rf " .. tmp)
print("test_files_hostile: ok")
