-- lore.lua - the pure-Lua half of the lore module: text and date values,
-- loading knowledge files, and printing values legibly.  Runs once when the
-- module opens, with the module table, the kb methods and the metatables.
local lore, kb_methods, Text, Date, Iter = ...
-- C internals, taken now: they leave the module table once every part has loaded
local check_json, regular = lore._check_json, lore._regular

local type, tostring, tonumber, pairs, ipairs = type, tostring, tonumber, pairs, ipairs
local format, concat, sort = string.format, table.concat, table.sort
local math_type = math.type

-- ---------------------------------------------------------------------------
-- Text and date values

Text.__index = Text
Date.__index = Date
Text.__name = "lore.Text"
Date.__name = "lore.Date"

function Text.__tostring(t) return t.text end
function Text.__eq(a, b) return a.text == b.text and a.lang == b.lang end
function Text.__lt(a, b) return a.text < b.text or (a.text == b.text and (a.lang or "") < (b.lang or "")) end
function Text.__le(a, b) return not Text.__lt(b, a) end
function Text.__concat(a, b) return tostring(a) .. tostring(b) end
function Text.__len(t) return utf8.len(t.text) or #t.text end

function Date.__tostring(d) return d.date end
-- A date's instant as seconds since 1970 and nanoseconds, as date.c reads
-- it: no zone is UTC, a reduced date is its first instant.  Dates order by
-- instant, ties by text, as lore_compare orders them in queries; equal
-- means the same text (the same term).
local function instant(s)
  local y, mo, d, rest = s:match("^(%d%d%d%d)%-?(%d*)%-?(%d*)(.*)$")
  y, mo, d = tonumber(y), tonumber(mo) or 1, tonumber(d) or 1
  local h, mi, se, frac, zone = rest:match("^T(%d%d):(%d%d):?(%d*)%.?(%d*)(.*)$")
  y = y - (mo <= 2 and 1 or 0) -- days_from_civil
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local doy = (153 * (mo + (mo > 2 and -3 or 9)) + 2) // 5 + d - 1
  local days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
  local secs = days * 86400 + (tonumber(h) or 0) * 3600 + (tonumber(mi) or 0) * 60 + (tonumber(se) or 0)
  local sign, zh, zm = (zone or ""):match("^([+-])(%d%d):(%d%d)$")
  if sign then secs = secs - (sign == "-" and -1 or 1) * (tonumber(zh) * 3600 + tonumber(zm) * 60) end
  return secs, tonumber(((frac or "") .. "000000000"):sub(1, 9))
end

function Date.__eq(a, b) return a.date == b.date end
function Date.__lt(a, b)
  local as, an = instant(a.date)
  local bs, bn = instant(b.date)
  if as ~= bs then return as < bs end
  if an ~= bn then return an < bn end
  return a.date < b.date
end
function Date.__le(a, b) return a.date == b.date or Date.__lt(a, b) end
function Date.__concat(a, b) return tostring(a) .. tostring(b) end
-- The year, month and day as integers (nil where the date omits them).
function Date:parts()
  local y, m, d = self.date:match("^(%d%d%d%d)%-?(%d?%d?)%-?(%d?%d?)")
  return tonumber(y), tonumber(m), tonumber(d)
end

function lore.istext(v) return getmetatable(v) == Text end
function lore.isdate(v) return getmetatable(v) == Date end

-- ---------------------------------------------------------------------------
-- Printing: how a term reads, and a table of rows aligned in columns

-- The knowledge base whose prefixes compact IRIs when printing: the one
-- given, else the global `kb` when it is one.
local function display_kb(kb)
  if kb ~= nil then return kb end
  local g = rawget(_ENV, "kb")
  local mt = type(g) == "userdata" and getmetatable(g)
  if mt and mt.__index == kb_methods then return g end
  return nil
end

-- A term as lore writes it: symbols bare (IRIs compacted with the kb's
-- prefixes, `ex:Ally`), texts quoted with their tag, dates and numbers as
-- they are.
local function show(v, kb)
  local t = type(v)
  if t == "string" then
    if v:sub(1, 1) == "<" then
      kb = display_kb(kb)
      if kb then return kb:compact(v) end
    end
    return v
  end
  if t == "number" then
    if math_type(v) == "float" and v == math.floor(v) and v >= -1e15 and v <= 1e15 then
      return format("%.1f", v)
    end
    return tostring(v)
  end
  local mt = getmetatable(v)
  if mt == Text then
    local q = format("%q", v.text):gsub("\\\n", "\\n")
    return v.lang and (q .. "@" .. v.lang) or q
  end
  if mt == Date then return v.date end
  if t == "table" or mt == Iter then return lore.pretty(v) end -- rows, sources: as the REPL shows them
  return tostring(v)
end
lore.show = show

-- Display width of a string (UTF-8 characters).
local function width(s) return utf8.len(s) or #s end

-- Cuts a string to n characters, marking the cut.
local function cut(s, n)
  if width(s) <= n then return s end
  local stop = utf8.offset(s, n) or (n + 1)
  return s:sub(1, stop - 1) .. "…"
end

-- Rows (arrays of values, or tables keyed by column: a query's rows) as
-- aligned text columns; `header` optional (for keyed rows, it names the
-- columns and their order; else their names, sorted, head the columns).
function lore.tabulate(rows, header, opts)
  local first = rows[1]
  if type(first) == "table" and getmetatable(first) == nil and #first == 0 and next(first) ~= nil then
    local cols = header
    if not cols then
      local seen = {}
      cols = {}
      for _, r in ipairs(rows) do
        for k in pairs(r) do
          if not seen[k] then seen[k] = true; cols[#cols + 1] = k end
        end
      end
      sort(cols, function(a, b) return tostring(a) < tostring(b) end)
    end
    local arrays = {}
    for i, r in ipairs(rows) do
      local a = {}
      for j, c in ipairs(cols) do a[j] = r[c] end
      a.n = #cols
      arrays[i] = a
    end
    rows, header = arrays, cols
  end
  -- long values are cut; the last column may run longer
  local maxw = opts and opts.width or 48
  local lastw = opts and opts.last_width or 100
  local cells, w = {}, {}
  local function add(row)
    local line = {}
    local n = row.n or #row
    for i = 1, n do
      local c = cut(row[i] == nil and "-" or show(row[i], opts and opts.kb), i == n and lastw or maxw)
      line[i] = c
      w[i] = math.max(w[i] or 0, width(c))
    end
    cells[#cells + 1] = line
  end
  if header then add(header) end
  for _, r in ipairs(rows) do add(r) end
  local out = {}
  for li, line in ipairs(cells) do
    local parts = {}
    for i, c in ipairs(line) do
      parts[i] = i < #line and (c .. string.rep(" ", w[i] - width(c))) or c
    end
    out[#out + 1] = concat(parts, "  ")
    if header and li == 1 then
      local rule = {}
      for i = 1, #line do rule[i] = string.rep("-", w[i]) end
      out[#out + 1] = concat(rule, "  ")
    end
  end
  return concat(out, "\n")
end

local function is_rows(t)
  if #t == 0 then return false end
  for i = 1, #t do
    if type(t[i]) ~= "table" or getmetatable(t[i]) or #t[i] == 0 then return false end
  end
  return next(t, #t) == nil or math_type(next(t, #t)) == "integer"
end

-- A value as the REPL shows it: terms as lore writes them, arrays of rows
-- as columns, other tables as Lua-like literals.
local function pretty(v, indent, seen)
  indent = indent or ""
  local t = type(v)
  if t ~= "table" and t ~= "userdata" then
    if t == "string" then return v end
    return show(v)
  end
  local mt = getmetatable(v)
  if mt == Text or mt == Date then return show(v) end
  if mt == Iter then
    local rows = v:all()
    if #rows == 0 then return "(no facts)" end
    return lore.tabulate(rows) .. format("\n(%d fact%s)", #rows, #rows == 1 and "" or "s")
  end
  if mt and mt.__tostring then return tostring(v) end
  if t == "userdata" then return tostring(v) end
  seen = seen or {}
  if seen[v] then return "{...}" end
  seen[v] = true
  if is_rows(v) then
    local out = lore.tabulate(v)
    seen[v] = nil
    return out
  end
  local parts, n = {}, #v
  for i = 1, n do parts[#parts + 1] = pretty(v[i], indent .. "  ", seen) end
  local keys = {}
  for k in pairs(v) do
    if not (math_type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  sort(keys, function(a, b)
    if type(a) == type(b) and (type(a) == "string" or type(a) == "number") then return a < b end
    return type(a) < type(b)
  end)
  for _, k in ipairs(keys) do
    local ks = type(k) == "string" and k:match("^[%a_][%w_]*$") and k or ("[" .. pretty(k, "", seen) .. "]")
    parts[#parts + 1] = ks .. " = " .. pretty(v[k], indent .. "  ", seen)
  end
  seen[v] = nil
  local one = "{" .. concat(parts, ", ") .. "}"
  if #parts == 0 then return "{}" end
  if width(one) <= 78 and not one:find("\n") then return one end
  return "{\n" .. indent .. "  " .. concat(parts, ",\n" .. indent .. "  ") .. "\n" .. indent .. "}"
end

-- print(kb:match(...)) shows the facts as the REPL does (reading them)
Iter.__tostring = function(it) return pretty(it) end

-- lore.pretty(...) -> the values as one string, tab-separated (REPL echo).
function lore.pretty(...)
  local n = select("#", ...)
  local out = {}
  for i = 1, n do
    local v = select(i, ...)
    out[i] = v == nil and "nil" or pretty(v)
  end
  return concat(out, "\t")
end

-- ---------------------------------------------------------------------------
-- Small conveniences for scripts

-- kb:value(s, p) -> the first object of (s, p, ?) in the store's order, or nil.
function kb_methods:value(s, p)
  for _, _, o in self:match(s, p, nil) do return o end
  return nil
end

-- kb:values(s, p) -> every object of (s, p, ?), as a list.
function kb_methods:values(s, p)
  local out = {}
  for _, _, o in self:match(s, p, nil) do out[#out + 1] = o end
  return out
end

-- lore.wrap(text, cols [, indent [, first]]) -> text wrapped at `cols`
-- columns, lines after the first indented by `indent`, the first starting
-- with `first` (default: indent).
function lore.wrap(text, cols, indent, first)
  indent = indent or ""
  first = first or indent
  local lines, line, fresh = {}, first, true
  for word in tostring(text):gmatch("%S+") do
    if not fresh and width(line) + 1 + width(word) > cols then
      lines[#lines + 1] = line
      line, fresh = indent, true
    end
    line = line .. (fresh and "" or " ") .. word
    fresh = false
  end
  lines[#lines + 1] = line
  return concat(lines, "\n")
end

-- ---------------------------------------------------------------------------
-- JSON knowledge files

-- Line and column of byte offset `pos` in `text`.
local function line_col(text, pos)
  local line, last = 1, 0
  for nl in text:sub(1, pos - 1):gmatch("()\n") do
    line, last = line + 1, nl
  end
  return line, pos - last
end

-- Finds the offset of the value at `path` (keys and 1-based indexes) by
-- scanning the text again; only used to place an error.
local function locate(text, path)
  local pos = 1
  local function ws() pos = text:find("[^ \t\r\n]", pos) or #text + 1 end
  local skip
  local function skip_string()
    local i = pos + 1
    while true do
      local c = text:find('["\\]', i)
      if not c then pos = #text + 1 return end
      if text:sub(c, c) == "\\" then i = c + 2 else pos = c + 1 return end
    end
  end
  function skip()
    ws()
    local c = text:sub(pos, pos)
    if c == '"' then skip_string()
    elseif c == "{" or c == "[" then
      local close = c == "{" and "}" or "]"
      pos = pos + 1
      ws()
      if text:sub(pos, pos) == close then pos = pos + 1 return end
      while pos <= #text do
        if c == "{" then skip_string() ws() pos = pos + 1 end -- key and ':'
        skip()
        ws()
        local d = text:sub(pos, pos)
        pos = pos + 1
        if d == close then return end
        ws()
      end
    else
      pos = (text:find("[,}%]%s]", pos) or #text + 1)
    end
  end
  for _, step in ipairs(path) do
    ws()
    local c = text:sub(pos, pos)
    if c == "[" and type(step) == "number" then
      pos = pos + 1
      for _ = 1, step - 1 do skip() ws() pos = pos + 1 end
    elseif c == "{" and type(step) == "string" then
      pos = pos + 1
      while true do
        ws()
        local s = pos
        skip_string()
        local key = text:sub(s + 1, pos - 2)
        ws()
        pos = pos + 1 -- ':'
        if key == step or pos > #text then break end
        skip()
        ws()
        pos = pos + 1 -- ','
      end
    else
      break
    end
  end
  ws()
  return pos
end

local function path_string(path)
  local out = {}
  for _, step in ipairs(path) do
    out[#out + 1] = type(step) == "number" and format("[%d]", step - 1) or ("." .. step)
  end
  return (concat(out):gsub("^%.", ""))
end

local TERM_FORMS = 'a term (a string, a number, true/false, or an object with "text", "date", '
  .. '"number" or "integer")'

-- Reads a JSON knowledge file into batch b; returns the number of facts or
-- raises {path = ..., msg = ...}.
local function read_json_facts(doc, b, default_source)
  local function fail(path, msg) error({ path = path, msg = msg }, 0) end
  local function copy(path, k)
    local p = { table.unpack(path) }
    p[#p + 1] = k
    return p
  end
  local function term(x, path)
    local t = type(x)
    if t == "string" then
      if x:sub(1, 1) == "?" then fail(path, "a symbol, not the variable '" .. x .. "'") end
      return x
    elseif t == "number" then
      return math.tointeger(x) or x
    elseif t == "boolean" then
      return x
    elseif t == "table" then
      local keys = {}
      for k in pairs(x) do keys[#keys + 1] = tostring(k) end
      sort(keys)
      local kinds = { text = 1, date = 1, number = 1, integer = 1 }
      local kind
      for _, k in ipairs(keys) do
        if kinds[k] then
          if kind then fail(path, "one of text/date/number/integer, got both " .. kind .. " and " .. k) end
          kind = k
        elseif not (k == "lang" and x.text ~= nil) then
          fail(path, TERM_FORMS .. ", got key '" .. k .. "'")
        end
      end
      local v = kind and x[kind]
      if kind == "text" then
        if type(v) ~= "string" then fail(copy(path, "text"), "a string") end
        if x.lang ~= nil and type(x.lang) ~= "string" then fail(copy(path, "lang"), "a language tag string") end
        local ok, r = pcall(lore.text, v, x.lang)
        if not ok then
          local reason = tostring(r):match("%((.-) expected%)$") or tostring(r)
          fail(copy(path, x.lang and "lang" or "text"), reason .. (x.lang and (", got '" .. x.lang .. "'") or ""))
        end
        return r
      elseif kind == "date" then
        if type(v) ~= "string" then fail(copy(path, "date"), "an ISO 8601 date string") end
        local ok, r = pcall(lore.date, v)
        if not ok then
          local reason = tostring(r):match("%((.-) expected, got") or tostring(r)
          fail(copy(path, "date"), reason .. ", got '" .. v .. "'")
        end
        return r
      elseif kind == "number" then
        if type(v) ~= "number" then fail(copy(path, "number"), "a number") end
        return v + 0.0
      elseif kind == "integer" then
        local i = type(v) == "string" and v:match("^%-?%d+$") and math.tointeger(tonumber(v))
        if type(v) == "number" then i = math.tointeger(v) end
        if not i then fail(copy(path, "integer"), "an integer, or a string of decimal digits within 64 bits") end
        return i
      end
      fail(path, TERM_FORMS .. (next(x) == nil and ", got an empty object" or ""))
    end
    fail(path, TERM_FORMS .. ", got " .. (x == nil and "nothing" or (t == "userdata" and "null" or t)))
  end

  local n = 0
  local function facts(list, path, source)
    if type(list) ~= "table" or (next(list) ~= nil and list[1] == nil) then
      fail(path, "an array of facts")
    end
    for i, f in ipairs(list) do
      local fp = copy(path, i)
      if type(f) ~= "table" then fail(fp, "a fact: [subject, predicate, object] or a group {\"source\": ..., \"facts\": [...]}") end
      if f[1] ~= nil or next(f) == nil then
        local len = #f
        if len < 3 or len > 4 then
          fail(fp, format("a fact of 3 terms (or 4 with a source), got %d", len))
        end
        local s, p, o = term(f[1], copy(fp, 1)), term(f[2], copy(fp, 2)), term(f[3], copy(fp, 3))
        local src = source
        if len == 4 then src = term(f[4], copy(fp, 4)) end
        local ok, msg = b:add(s, p, o, src)
        if not ok then fail(fp, msg) end
        n = n + 1
      else
        for k in pairs(f) do
          if k ~= "source" and k ~= "facts" then
            fail(fp, "a group with \"source\" and \"facts\", got key '" .. tostring(k) .. "'")
          end
        end
        if f.facts == nil then fail(fp, "a group with \"facts\"") end
        local src = source
        if f.source ~= nil then src = term(f.source, copy(fp, "source")) end
        facts(f.facts, copy(fp, "facts"), src)
      end
    end
  end

  if type(doc) ~= "table" or doc[1] ~= nil then fail({}, 'an object {"lore": 1, "facts": [...]}') end
  for k in pairs(doc) do
    if k ~= "lore" and k ~= "facts" and k ~= "source" and k ~= "rules" then
      fail({ k }, "one of the keys lore, source, facts, rules; got '" .. tostring(k) .. "'")
    end
  end
  if doc.lore ~= 1 then fail(doc.lore == nil and {} or { "lore" }, '"lore": 1 (the format version)') end
  local source = default_source
  if doc.source ~= nil then source = term(doc.source, { "source" }) end
  facts(doc.facts or {}, { "facts" }, source)
  return n
end

local cjson_safe

-- Loads the JSON knowledge text `text` (named `path` in messages) into
-- kb, all or nothing.
local function load_json_text(kb, text, path, opts)
  if not cjson_safe then
    cjson_safe = require("cjson.safe")
    cjson_safe.decode_max_depth(lore.max_nesting) -- the limit of every reader
  end
  local doc, jerr = cjson_safe.decode(text)
  if doc == nil then
    local at = tonumber(tostring(jerr):match("at character (%d+)")) or 1
    local line, col = line_col(text, at)
    local what = tostring(jerr):gsub(" at character %d+", "")
    if what:match("^Found too many nested data structures") then
      what = "nesting deeper than " .. lore.max_nesting
    end
    -- cjson names tokens by its internal names: say them as a reader would
    local TOKENS = {
      T_OBJ_BEGIN = "'{'", T_OBJ_END = "'}'", T_ARR_BEGIN = "'['", T_ARR_END = "']'",
      T_STRING = "a string", T_NUMBER = "a number", T_BOOLEAN = "true or false",
      T_NULL = "null", T_COLON = "':'", T_COMMA = "','", T_END = "the end of the file",
      T_WHITESPACE = "white space", T_ERROR = "an invalid token", T_UNKNOWN = "an invalid token",
    }
    what = what:gsub("^Found too many nested data structures %(%d+%)", "nesting deeper than 1000")
    what = what:gsub("T_[%u_]+", TOKENS):gsub("^Expected", "expected"):gsub(" but found ", ", found ")
    return nil, format("%s:%d:%d: %s", path, line, col, what)
  end
  -- what the decoder changed silently (lua_formats.c)
  local at, expected = check_json(text)
  if at then
    local line, col = line_col(text, at)
    return nil, format("%s:%d:%d: expected %s", path, line, col, expected)
  end
  -- rules first (a batch must not be open meanwhile); taken back if the
  -- facts fail
  local rules = {}
  if type(doc) == "table" and doc.rules ~= nil then
    local list = doc.rules
    if type(list) ~= "table" or (next(list) ~= nil and list[1] == nil) then
      local line, col = line_col(text, locate(text, { "rules" }))
      return nil, format("%s:%d:%d: rules: expected an array of rules (strings)", path, line, col)
    end
    for i, r in ipairs(list) do
      local line, col = line_col(text, locate(text, { "rules", i }))
      if type(r) ~= "string" then
        return nil, format("%s:%d:%d: rules[%d]: expected a rule (a string), got %s", path, line,
          col, i - 1, r == nil and "nothing" or type(r) == "userdata" and "null" or type(r))
      end
      rules[#rules + 1] = { text = r, line = line, col = col, index = i - 1 }
    end
  end
  local added = {}
  local function unrule() for i = #added, 1, -1 do kb:remove_rule(added[i]) end end
  for _, r in ipairs(rules) do
    local ok, name = pcall(kb.rule, kb, r.text)
    if not ok then
      unrule()
      local msg = tostring(name):gsub("^bad argument #%d+ to '[^']*' %((.*)%)$", "%1")
      return nil, format("%s:%d:%d: rules[%d]: %s", path, r.line, r.col, r.index, msg)
    end
    added[#added + 1] = name
  end
  local b <close> = kb:batch()
  local ok, n = pcall(read_json_facts, doc, b, opts and opts.source)
  if not ok then
    b:abort()
    unrule()
    if type(n) ~= "table" then error(n, 0) end
    local line, col = line_col(text, locate(text, n.path))
    local where = #n.path > 0 and (path_string(n.path) .. ": ") or ""
    return nil, format("%s:%d:%d: %sexpected %s", path, line, col, where, n.msg)
  end
  b:commit()
  return n
end

-- Loads a JSON knowledge file into kb, all or nothing.
local function load_json(kb, path, opts)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local text = f:read("a")
  f:close()
  return load_json_text(kb, text, path, opts)
end

local loaders = { json = load_json }

-- kb:load(path [, opts]) -> number of facts read, or nil and a message.
-- The format comes from the extension (opts.format overrides it).
function kb_methods:load(path, opts)
  if type(path) ~= "string" then
    error(format("bad argument #1 to 'load' (file name expected, got %s)", type(path)), 2)
  end
  local fmt = opts and opts.format or path:match("%.([%w]+)$")
  fmt = fmt and fmt:lower()
  local loader = loaders[fmt]
  if not loader then
    local names = {}
    for name in pairs(loaders) do names[#names + 1] = name end
    sort(names)
    local what = fmt and format("unknown format '%s'", fmt) or "no format (the name has no extension)"
    return nil, format("%s: %s (expected one of: %s)", path, what, concat(names, ", "))
  end
  local ok, err = regular(path)
  if not ok then return nil, err end
  return loader(self, path, opts)
end

-- The shipped knowledge base: where it lives and the files it is made of.
-- lore.home is set when the module opens (the source tree in a build, the
-- installed share/lore otherwise); $LORE_HOME overrides it.
lore.home = (os and os.getenv and os.getenv("LORE_HOME")) or lore.home
lore.shipped_files = { "knowledge/press.json", "knowledge/press.rules" }

-- lore.shipped() -> a new kb holding the shipped knowledge base: its facts
-- and rules, with what the rules derive.
function lore.shipped()
  local kb = lore.new()
  for _, f in ipairs(lore.shipped_files) do
    local path = (lore.home or ".") .. "/" .. f
    local ok, err = kb:load(path)
    if not ok then error("cannot load the shipped knowledge: " .. err, 2) end
  end
  kb:infer()
  return kb
end

-- lore.help([topic]) prints a guide (the REPL's help()): with no topic the
-- list of topics and a few examples to try; with a topic (a name such as
-- "match" or "kb:why", or the function itself, help(kb.why)) that one
-- entry.  Every entry lives in the one text below: an entry starts at
-- column 0 with its signature and " -- " a summary, its lines after that
-- are indented.
local HELP = [==[
kb:match(s, p, o [, {derived = true} or {asserted = true}]) -- the facts matching a pattern
  nil, "?", "_" or "?name" is a wildcard in any position.  At the REPL the
  facts print as aligned rows; in a script, loop over them:
    for s, p, o in kb:match(nil, "type", "Country") do print(s) end
  m:all() gives them as a list of {s, p, o}.
kb:count(s, p, o) -- how many facts match a pattern (#kb: how many there are)
kb:sources(s, p, o) -- where a fact comes from
  A table of its sources (press:s1 ... press:s13 are the sentences of the
  text) with asserted, derived and default marks; nothing if the fact is absent.
kb:add(s, p, o [, {source = src}]) -- adds a fact; true if it is new
  A term is a string (a symbol), a number, a boolean, lore.text(...) or
  lore.date(...).
kb:remove(s, p, o [, {source = src}]) -- removes a fact (from one source only, when given)
kb:retract_source(src) -- removes what a source asserted; how many facts disappeared
kb:batch() -- a batch: b:add(s, p, o) many facts, which appear at b:commit()
kb:value(s, p) -- the first object of (s, p, ?), or nil
kb:values(s, p) -- every object of (s, p, ?), as a list
kb:load(path [, {format = ...}]) -- reads a knowledge file; nil and a message if it cannot
  The format comes from the extension: .json (knowledge/README.md), .nt .nq
  .ttl .trig (RDF), .rules, .lore (a snapshot).
kb:export(path [, {format = ...}]) -- writes kb out, in the format of the extension
kb:prefix(name [, iri]) -- binds a prefix (or gives its namespace), for compact names
  After kb:prefix("ex", "http://example.org/"), "ex:Ally" names
  <http://example.org/Ally>.  kb:prefixes() lists them.
kb:terms([prefix [, limit]]) -- the symbols starting with prefix, in order, and how many
  IRIs count by their compact form (ex:Ally).  Tab at the REPL completes from it.
kb:q(text [, options]) -- a query in the text form; its rows print as a table
  ?x are variables, and patterns that share one join:
    kb:q "?c beneficiary ukraine . ?c amount ?a"
  Also filter, optional { }, without { }, { } union { }, paths (p+ p* ^p p/q
  p|q), select ... count(?x) as ?n ... group by, order by, limit, offset.
  r:all(), r:first(), r:count(), r:columns(), r:json(), r:plan() on the rows.
kb:query(spec) -- a query as Lua tables: kb:query{ {"?c", "beneficiary", "ukraine"} }
  spec.where (or the array part) holds the patterns; filter = function(row)
  ... end, order, limit, distinct as in the text form.
kb:select(spec) -- kb:query with order, limit, distinct as fields
  kb:select{ where = { {"?x", "type", "Country"} }, order = "-?x", limit = 3 }
kb:plan(spec or text) -- how a query will run: the order of its patterns and the estimates
kb:reach(start, path [, {depth = n}]) -- the nodes a path reaches from start, with their depth
kb:rule(text [, name]) -- adds a rule: kb:rule "?a anc ?c :- ?a parent ?b, ?b anc ?c"
  Its facts appear at kb:infer().  A rule may be named "name: head :- body".
kb:rules() -- the rules, with their text and stratum
kb:remove_rule(name) -- takes a rule out; false if there is none
kb:infer([{max = n}]) -- derives what the rules say: {added =, removed =, rounds =, full =}
kb:derived(s, p, o) -- the derived facts matching a pattern
kb:why(s, p, o) -- how a fact holds: the rule, its premises, down to the sentences
  Nothing if the fact is absent.  kb:why("allies", "commits_to", "ukraine")
kb:on(pattern, fn [, {added = true, removed = true}]) -- a trigger: fn(row, event) as facts appear or go
  After kb:infer() settles; t:cancel() stops it.
kb:fn(name, function) -- a value function for the text form of queries and rules
kb:save(path) -- writes a snapshot (.lore); lore.open(path) opens one
kb:transaction(fn, ...) -- runs fn(kb, ...): all of its changes, or none if it fails
lore.new() -- a new, empty knowledge base
lore.open(path [, {journal = true}]) -- a knowledge base from a snapshot, durable with a journal
lore.shipped() -- a new knowledge base holding the shipped knowledge, rules derived
lore.text(str [, lang]) -- a text with a language tag: lore.text("Pologne", "fr")
lore.date(iso) -- a date: lore.date("2024-07-10")
lore.show(v) -- a term as lore writes it (symbols bare, texts quoted with their tag)
lore.pretty(...) -- values as the REPL prints them
lore.tabulate(rows [, header [, opts]]) -- rows (arrays of values) as aligned columns
lore.wrap(text, cols [, indent [, first]]) -- text wrapped at cols columns
]==]

local HELP_TRY = [[
Try:  kb:q "?c type Commitment . ?c committed_by ?who . optional { ?c amount ?a }"
      kb:match("ukraine", nil, nil)
      for s in kb:match(nil, "label", lore.text("Pologne", "fr")) do print(s) end
      kb:match("press:s11", "text", nil)
      kb:why("allies", "commits_to", "ukraine")
help(kb.match) or help("match") shows one entry.  More: README.md, REPL.md,
knowledge/README.md.]]

-- The entries of HELP: a list of {name =, owner = "kb" | "lore", text =}.
local help_entries
local function entries()
  if help_entries then return help_entries end
  help_entries = {}
  for line in HELP:gmatch("[^\n]+") do
    local owner, name = line:match("^(%a+)[:.]([%w_]+)")
    if owner then
      help_entries[#help_entries + 1] = { name = name, owner = owner, text = line }
    else
      local e = help_entries[#help_entries]
      e.text = e.text .. "\n" .. line
    end
  end
  return help_entries
end

-- Edit distance, for the names nearest a misspelled topic.
local function distance(a, b)
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local cost = a:sub(i, i) == b:sub(j, j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

-- The entry for topic (a name or a function), or nil and a message.
local function help_entry(topic)
  local name = topic
  if type(topic) == "function" then
    name = nil
    for k, f in pairs(kb_methods) do if f == topic then name = k end end
    for k, f in pairs(lore) do if f == topic then name = k end end
    if topic == lore.help then name = "help" end
    if not name then return nil, "no help for this function (not one of lore's)" end
  elseif type(topic) ~= "string" then
    return nil, "help(topic): a name such as \"match\" or a function such as kb.match"
  end
  name = name:gsub("^%s*", ""):gsub("%s*$", ""):gsub("%(%)$", "")
  name = name:gsub("^kb[:.]", ""):gsub("^lore%.", "")
  for _, e in ipairs(entries()) do
    if e.name == name then return e end
  end
  local near = {}
  for _, e in ipairs(entries()) do
    local d = distance(name, e.name)
    if d <= math.max(2, #name // 3) or e.name:sub(1, #name) == name then
      near[#near + 1] = { e.name, d }
    end
  end
  sort(near, function(x, y) return x[2] < y[2] or (x[2] == y[2] and x[1] < y[1]) end)
  local names = {}
  for i = 1, math.min(#near, 4) do names[i] = near[i][1] end
  return nil, format("no help for '%s'%s", name, #names > 0 and ("; did you mean " ..
    concat(names, ", ") .. "?") or "; help() lists the topics")
end

function lore.help(topic)
  if topic == nil or topic == lore then
    local lines = { "lore: facts are (subject, predicate, object) with sources; kb is the "
      .. "knowledge base.", "help(topic) tells more of one of these:" }
    for _, e in ipairs(entries()) do
      local summary = e.text:match("^[^\n]- %-%- ([^\n]*)")
      lines[#lines + 1] = format("  %-18s %s", e.owner .. (e.owner == "kb" and ":" or ".") .. e.name,
        summary)
    end
    print(concat(lines, "\n") .. "\n" .. HELP_TRY)
    return
  end
  local e, msg = help_entry(topic)
  print(e and e.text or msg)
end

lore._loaders = loaders
lore._line_col = line_col
lore._load_json_text = load_json_text

return lore
