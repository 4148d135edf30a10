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

-- r:json() -> the rows as a JSON array of objects, keys in column order,
-- one row per line; unbound values are null.
function methods:json()
  local cols = self:columns()
  local keys = {}
  for i, c in ipairs(cols) do keys[i] = jstring(c) end
  local out = {}
  for i, row in ipairs(self:all()) do
    local parts = {}
    for c, name in ipairs(cols) do parts[c] = keys[c] .. ":" .. jvalue(row[name]) end
    out[i] = "  {" .. concat(parts, ",") .. "}"
  end
  if #out == 0 then return "[]" end
  return "[\n" .. concat(out, ",\n") .. "\n]"
end
