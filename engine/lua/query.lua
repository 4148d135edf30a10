-- query.lua - the pure-Lua half of queries: results printed as aligned
-- tables (print, the REPL) and written as deterministic JSON.  Runs once
-- when the module opens; the query class comes from lua_query.c.
local lore, _, Text, Date = ...

local Query = lore._Query
lore._Query = nil
local methods = Query.__index

local format, concat = string.format, table.concat
local math_type, type, getmetatable, ipairs = math.type, type, getmetatable, ipairs

-- The rows as lists of display strings ("-" where unbound), in column order.
local function cells(r)
  local cols, out = r:columns(), {}
  for i, row in ipairs(r:all()) do
    local line = {}
    for c, name in ipairs(cols) do
      local v = row[name]
      line[c] = v == nil and "-" or lore.show(v)
    end
    out[i] = line
  end
  return cols, out
end

-- print(r), tostring(r), the REPL: an aligned table with a header and the
-- number of rows; long values are cut.
function Query.__tostring(r)
  local cols, rows = cells(r)
  if #cols == 0 then return format("(%d row%s)", #rows, #rows == 1 and "" or "s") end
  if #rows == 0 then return concat(cols, "  ") .. "\n(no rows)" end
  return lore.tabulate(rows, cols) .. format("\n(%d row%s)", #rows, #rows == 1 and "" or "s")
end

-- ---------------------------------------------------------------------------
-- JSON

local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

local function jstring(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or format("\\u%04x", c:byte())
  end) .. '"'
end

-- The shortest decimal form that reads back as the same double.
local function jnumber(x)
  if x ~= x then return "null" end
  if x == math.huge then return "1e999" end
  if x == -math.huge then return "-1e999" end
  for digits = 15, 17 do
    local s = format("%." .. digits .. "g", x)
    if tonumber(s) == x then return s end
  end
  return format("%.17g", x)
end

-- A term as in lore's JSON fact files: symbols as strings, integers and
-- non-integral numbers as JSON numbers, integral doubles as {"number": n},
-- texts as {"text": ..., "lang": ...}, dates as {"date": ...}.
local function jvalue(v)
  local t = type(v)
  if v == nil then return "null" end
  if t == "string" then return jstring(v) end
  if t == "boolean" then return tostring(v) end
  if t == "number" then
    if math_type(v) == "integer" then return format("%d", v) end
    if v == math.floor(v) and v > -2^63 and v < 2^63 then
      return '{"number":' .. jnumber(v) .. "}"
    end
    return jnumber(v)
  end
  local mt = getmetatable(v)
  if mt == Text then
    return '{"text":' .. jstring(v.text) .. (v.lang and (',"lang":' .. jstring(v.lang)) or "") .. "}"
  end
  if mt == Date then return '{"date":' .. jstring(v.date) .. "}" end
  return jstring(tostring(v))
end
lore._json_value = jvalue

-- A term as a plain JSON value, for tools that know nothing of lore:
-- texts and dates as strings, numbers as numbers, symbols as strings.
local function jplain(v)
  local t = type(v)
  if v == nil then return "null" end
  if t == "number" then
    if math_type(v) == "integer" then return format("%d", v) end
    if v ~= v or v == math.huge or v == -math.huge then return "null" end
    return jnumber(v)
  end
  if t == "boolean" then return tostring(v) end
  local mt = getmetatable(v)
  if mt == Text then return jstring(v.text) end
  if mt == Date then return jstring(v.date) end
  return jstring(tostring(v))
end

-- A term as plain text for CSV and TSV: texts without quotes or tag,
-- dates as written, numbers as lore writes them, unbound empty.
local function plain(v)
  if v == nil then return "" end
  local mt = getmetatable(v)
  if mt == Text then return v.text end
  if mt == Date then return v.date end
  if math_type(v) == "float" then return jnumber(v) end
  return tostring(v)
end

-- The rows as delimited text: a header of the column names, then a line
-- per row, each field written by `field`, joined by `sep`, every line
-- ended by `eol`.
local function delimited(r, field, sep, eol)
  local cols = r:columns()
  local head = {}
  for i, c in ipairs(cols) do head[i] = field(c) end
  local out = { concat(head, sep) }
  for _, row in ipairs(r:all()) do
    local parts = {}
    for c, name in ipairs(cols) do parts[c] = field(plain(row[name])) end
    out[#out + 1] = concat(parts, sep)
  end
  return concat(out, eol) .. eol
end

-- r:csv() -> the rows as CSV (RFC 4180: a header of the column names,
-- fields with a comma, a quote or a line break quoted, quotes doubled,
-- lines ended by CRLF).
function methods:csv()
  return delimited(self, function(s)
    if s:find('[,"\r\n]') then return '"' .. s:gsub('"', '""') .. '"' end
    return s
  end, ",", "\r\n")
end

-- r:tsv() -> the rows as tab-separated values (a header of the column
-- names; a tab, line break or backslash in a field written \t, \n, \\).
local TSV_ESC = { ["\t"] = "\\t", ["\n"] = "\\n", ["\r"] = "\\r", ["\\"] = "\\\\" }
function methods:tsv()
  return delimited(self, function(s) return (s:gsub("[\t\n\r\\]", TSV_ESC)) end, "\t", "\n")
end

-- r:json([{plain = true}]) -> the rows as a JSON array of objects, keys in
-- column order, one row per line; unbound values are null.  Terms as in
-- lore's JSON files, or with plain = true as plain JSON values.
function methods:json(opts)
  local value = opts and opts.plain and jplain or jvalue
  local cols = self:columns()
  local keys = {}
  for i, c in ipairs(cols) do keys[i] = jstring(c) end
  local out = {}
  for i, row in ipairs(self:all()) do
    local parts = {}
    for c, name in ipairs(cols) do parts[c] = keys[c] .. ":" .. value(row[name]) end
    out[i] = "  {" .. concat(parts, ",") .. "}"
  end
  if #out == 0 then return "[]" end
  return "[\n" .. concat(out, ",\n") .. "\n]"
end

-- lore -q QUERY [--json | --csv | --tsv]: the rows on standard output
lore._cli_query = function(kb, text, fmt)
  local ok, r = pcall(function() return kb:q(text) end)
  if not ok then error((tostring(r):gsub("^[%w_.]+:%d+: ", "")), 0) end -- not this file's line
  if fmt == "json" then
    io.write(r:json { plain = true }, "\n")
  elseif fmt == "csv" then
    io.write(r:csv())
  elseif fmt == "tsv" then
    io.write(r:tsv())
  else
    print(r)
  end
end
