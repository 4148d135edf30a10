-- check.lua - the few assertions the Lua tests share.
local M = {}

local function show(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

-- Deep equality of plain values and tables (metatables compared too).
local function same(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  if getmetatable(a) ~= getmetatable(b) then return false end
  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end
M.same = same

function M.eq(got, want, what)
  if not same(got, want) then
    error(string.format("%s: expected %s, got %s", what or "value", show(want), show(got)), 2)
  end
end

-- fn must raise exactly `msg` (position prefixes stripped).
function M.raises(fn, msg, what)
  local ok, err = pcall(fn)
  if ok then error((what or "call") .. ": expected an error: " .. msg, 2) end
  err = tostring(err):gsub("^[^:]*:%d+: ", "")
  if err ~= msg then
    error(string.format("%s: expected error %q, got %q", what or "call", msg, err), 2)
  end
end

-- Rows of an iterator, each as a list, sorted by their printed form.
function M.rows(...)
  local out = {}
  for a, b, c in ... do out[#out + 1] = { a, b, c } end
  table.sort(out, function(x, y)
    return table.concat({ tostring(x[1]), tostring(x[2]), tostring(x[3]) }, "\0")
      < table.concat({ tostring(y[1]), tostring(y[2]), tostring(y[3]) }, "\0")
  end)
  return out
end

return M
