-- search.lua - finding things by word and seeing them whole: kb:search
-- (case- and accent-insensitive, stemmed in French and English, ranked),
-- kb:describe (an entity's facts both ways, named, with their sentences)
-- and kb:dot (a neighbourhood as Graphviz DOT).  Words are folded and
-- stemmed by lua_search.c (utf8proc, Snowball).
local lore, kb_methods, Text, Date = ...

local fold, stem = lore._fold, lore._stem
local type, pairs, ipairs, tostring, setmetatable = type, pairs, ipairs, tostring, setmetatable
local format, concat, sort = string.format, table.concat, table.sort
local show = lore.show

-- Punctuation outside ASCII that separates words (apostrophes, quotes,
-- dashes, spaces that do not break).
local SEPARATORS = { "’", "‘", "«", "»", "“", "”", "–", "—", "…", "\194\160", "\226\128\175" }

local function words(s)
  s = fold(s)
  for _, p in ipairs(SEPARATORS) do s = s:gsub(p, " ") end
  local out = {}
  for w in s:gmatch("[%w\128-\255]+") do out[#out + 1] = w end
  return out
end

-- The keys a word is found under: itself and its French and English stems.
local function keys(w)
  local k = { [w] = true }
  if #w > 2 then
    k[stem(w, "fr")] = true
    k[stem(w, "en")] = true
  end
  return k
end

local function textof(v)
  if type(v) == "table" and getmetatable(v) == Text then return v.text end
  if type(v) == "string" then return v end
  return nil
end

-- How much a match counts, by where it is: an entity's own names most.
local WEIGHT = { name = 3, label = 3, ["__symbol"] = 3 }

-- The index of a kb: key -> { {s = entity, p = predicate, o = value, w = weight}, ... }.
-- Kept per kb and made again when its number of facts changes.
local cache = setmetatable({}, { __mode = "k" })

local function index(kb)
  local size = #kb
  local c = cache[kb]
  if c and c.size == size then return c.idx end
  local idx, seen_sym = {}, {}
  local function post(key, hit)
    local l = idx[key]
    if not l then l = {}; idx[key] = l end
    l[#l + 1] = hit
  end
  local function add_text(s, p, o, text, w)
    local done = {}
    for _, word in ipairs(words(text)) do
      for k in pairs(keys(word)) do
        if not done[k] then done[k] = true; post(k, { s = s, p = p, o = o, w = w }) end
      end
    end
  end
  for s, p, o in kb:match() do
    if type(s) == "string" and not seen_sym[s] then
      seen_sym[s] = true
      if s:sub(1, 1) ~= "<" then -- a name: its parts (nato_ukraine_jatec: nato, ukraine, jatec)
        add_text(s, "__symbol", s, (s:gsub("[_:%-.]", " ")), WEIGHT.__symbol)
      end
    end
    local text = textof(o)
    if text and type(o) == "table" then add_text(s, p, o, text, WEIGHT[p] or 1) end
  end
  cache[kb] = { size = size, idx = idx }
  return idx
end

-- Entities in lore's order: digit runs by value (press:s9 before press:s10).
local function natural_less(a, b)
  a, b = tostring(a), tostring(b)
  local i, j = 1, 1
  while i <= #a and j <= #b do
    local da, db = a:match("^%d+", i), b:match("^%d+", j)
    if da and db then
      local na, nb = da:gsub("^0+", ""), db:gsub("^0+", "")
      if #na ~= #nb then return #na < #nb end
      if na ~= nb then return na < nb end
      i, j = i + #da, j + #db
    else
      local ca, cb = a:sub(i, i), b:sub(j, j)
      if ca ~= cb then return ca < cb end
      i, j = i + 1, j + 1
    end
  end
  if i <= #a or j <= #b then return i > #a end
  return a < b
end

local Hits = { __name = "lore.hits" }
Hits.__index = Hits

function Hits.__tostring(h)
  if #h == 0 then return "(no matches)" end
  local rows = {}
  for i, x in ipairs(h) do
    local where = x.p == "__symbol" and "(its name)" or (x.p .. " " .. show(x.o))
    rows[i] = { x.entity, x.score, where .. (x.source and (" [" .. show(x.source) .. "]") or "") }
  end
  return lore.tabulate(rows, { "entity", "score", "where" }) ..
    format("\n(%d match%s)", #h, #h == 1 and "" or "es")
end

-- kb:search(words [, {limit = n}]) -> the entities whose names, labels,
-- texts or sentences hold the words (any case, any accents, any form of
-- the word; those holding every word if any do, else the most), best
-- first (a word in a name or label counts 3, elsewhere 1): a table of
-- {entity =, score =, p =, o =, source =} that prints as a table.
function kb_methods:search(query, opts)
  if type(query) ~= "string" then error("bad argument #1 to 'search' (words expected)", 2) end
  if opts ~= nil and type(opts) ~= "table" then error("bad argument #2 to 'search' (table expected)", 2) end
  local limit = opts and opts.limit or 20
  local idx = index(self)
  local best = {} -- entity -> { per query word: best hit }
  local qwords = words(query)
  for qi, word in ipairs(qwords) do
    for k in pairs(keys(word)) do
      for _, hit in ipairs(idx[k] or {}) do
        local e = best[hit.s]
        if not e then e = {}; best[hit.s] = e end
        local cur = e[qi]
        if not cur or hit.w > cur.w then e[qi] = hit end
      end
    end
  end
  -- entities that hold every word, if any do; else those holding the most
  local most = 0
  for _, per in pairs(best) do
    local n = 0
    for _ in pairs(per) do n = n + 1 end
    if n > most then most = n end
  end
  local out = {}
  for entity, per in pairs(best) do
    local score, top, n = 0, nil, 0
    for _ in pairs(per) do n = n + 1 end
    if n < most then goto skip end
    for _, hit in pairs(per) do
      score = score + hit.w
      if not top or hit.w > top.w then top = hit end
    end
    local src
    if top.p ~= "__symbol" then
      local s = self:sources(entity, top.p, top.o)
      src = s and s[1]
    end
    out[#out + 1] = { entity = entity, score = score, p = top.p, o = top.o, source = src }
    ::skip::
  end
  sort(out, function(a, b)
    if a.score ~= b.score then return a.score > b.score end
    return natural_less(a.entity, b.entity)
  end)
  for i = limit + 1, #out do out[i] = nil end
  return setmetatable(out, Hits)
end

-- The name of an entity in a language (its name@lang or label@lang, else
-- any name), or nil.
local function name_of(kb, x, lang)
  local any
  for _, p in ipairs { "name", "label" } do
    for _, _, v in kb:match(x, p, nil) do
      if type(v) == "table" and getmetatable(v) == Text then
        if v.lang == lang then return v.text end
        any = any or v.text
      end
    end
  end
  return any
end

local function named(kb, v, lang)
  local s = show(v)
  if type(v) == "string" then
    local n = name_of(kb, v, lang)
    if n and n ~= v then s = s .. " (" .. n .. ")" end
  end
  return s
end

local function sources_of(kb, s, p, o)
  local src = kb:sources(s, p, o)
  if not src then return "" end
  local names = {}
  for i, x in ipairs(src) do names[i] = show(x) end
  if src.derived then names[#names + 1] = "derived" end
  return #names > 0 and (" [" .. concat(names, ", ") .. "]") or ""
end

-- kb:describe(x [, {lang = "en"}]) -> a text: x with its name, then its
-- facts grouped by predicate (outgoing, then incoming marked <-), each
-- value named, each fact's sources (sentences) after it.
function kb_methods:describe(x, opts)
  if x == nil then error("bad argument #1 to 'describe' (a term expected)", 2) end
  local lang = opts and opts.lang or "en"
  local lines = { named(self, x, lang) }
  local function group(iter, incoming)
    local by, order = {}, {}
    for s, p, o in iter do
      if not by[p] then by[p] = {}; order[#order + 1] = p end
      by[p][#by[p] + 1] = { s, p, o }
    end
    sort(order, function(a, b) return tostring(a) < tostring(b) end)
    for _, p in ipairs(order) do
      for _, f in ipairs(by[p]) do
        local other = incoming and f[1] or f[3]
        lines[#lines + 1] = format("  %s%s: %s%s", incoming and "<- " or "", show(p), named(self, other, lang),
          sources_of(self, f[1], f[2], f[3]))
      end
    end
  end
  group(self:match(x, nil, nil), false)
  group(self:match(nil, nil, x), true)
  if #lines == 1 then lines[2] = "  (no facts)" end
  return concat(lines, "\n")
end

local function dot_string(s)
  return '"' .. s:gsub('[\\"]', "\\%0"):gsub("\n", "\\n") .. '"'
end

-- kb:dot(start [, {depth = 1, predicates = {...}, lang = "en"}]) -> the
-- neighbourhood of start as Graphviz DOT: entities as boxes named in lang,
-- facts between them as edges (derived ones dashed), other values as
-- notes.
function kb_methods:dot(start, opts)
  if start == nil then error("bad argument #1 to 'dot' (a term expected)", 2) end
  opts = opts or {}
  local depth, lang = opts.depth or 1, opts.lang or "en"
  local only
  if opts.predicates then
    only = {}
    for _, p in ipairs(opts.predicates) do only[p] = true end
  end
  local nodes, order, edges, seen = {}, {}, {}, {}
  local function node(v)
    local key = type(v) == "string" and v or ("value:" .. show(v))
    if not nodes[key] then
      local label = type(v) == "string" and (name_of(self, v, lang) or show(v)) or show(v)
      nodes[key] = { id = "n" .. (#order + 1), label = label, value = type(v) ~= "string" }
      order[#order + 1] = key
    end
    return nodes[key].id
  end
  local frontier = { start }
  node(start)
  for _ = 1, depth do
    local next_ = {}
    for _, x in ipairs(frontier) do
      local function take(s, p, o)
        if only and not only[p] then return end
        if p == "name" or p == "label" then return end
        local k = show(s) .. "\0" .. show(p) .. "\0" .. show(o)
        if seen[k] then return end
        seen[k] = true
        local src = self:sources(s, p, o)
        local a, b = node(s), node(o)
        edges[#edges + 1] = format("  %s -> %s [label=%s%s];", a, b, dot_string(show(p)),
          (src and not src.asserted) and ", style=dashed" or "")
        for _, y in ipairs { s, o } do
          if type(y) == "string" and not nodes[y].visited then next_[#next_ + 1] = y end
        end
      end
      if type(x) == "string" then
        nodes[x].visited = true
        for s, p, o in self:match(x, nil, nil) do take(s, p, o) end
        for s, p, o in self:match(nil, nil, x) do take(s, p, o) end
      end
    end
    frontier = next_
  end
  local out = { "digraph lore {", "  node [shape=box, fontname=\"Helvetica\"];", "  edge [fontname=\"Helvetica\"];" }
  for _, key in ipairs(order) do
    local n = nodes[key]
    out[#out + 1] = format("  %s [label=%s%s];", n.id, dot_string(n.label), n.value and ", shape=note" or "")
  end
  for _, e in ipairs(edges) do out[#out + 1] = e end
  out[#out + 1] = "}"
  return concat(out, "\n") .. "\n"
end

-- ---------------------------------------------------------------------------
-- Hints: why a query or a match found nothing

local KEYWORDS = {}
for w in ([[select where filter optional without union order by limit offset group count
  sum min max avg distinct as in match true false and or not date]]):gmatch("%S+") do KEYWORDS[w] = true end

local function levenshtein(a, b)
  if a == b then return 0 end
  local la, lb = #a, #b
  if math.abs(la - lb) > 3 then return 99 end
  local prev = {}
  for j = 0, lb do prev[j] = j end
  for i = 1, la do
    local cur = { [0] = i }
    local ca = a:byte(i)
    for j = 1, lb do
      local cost = ca == b:byte(j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[lb]
end

-- Is symbol s in some fact?
local function used(kb, s)
  return kb:count(s, nil, nil) + kb:count(nil, s, nil) + kb:count(nil, nil, s) > 0
end

-- The existing symbols nearest to name (up to 3, by edit distance).
local function nearest(kb, name)
  local best = {}
  local limit = math.max(2, #name // 4)
  for _, t in ipairs(kb:terms()) do
    local d = levenshtein(name:lower(), t:lower())
    if d <= limit then best[#best + 1] = { t = t, d = d } end
  end
  sort(best, function(x, y) if x.d ~= y.d then return x.d < y.d end return x.t < y.t end)
  local out = {}
  for i = 1, math.min(3, #best) do out[i] = "'" .. best[i].t .. "'" end
  return out
end

local function hint_name(kb, name, out)
  if used(kb, name) then return end
  local near = nearest(kb, name)
  out[#out + 1] = format("no fact uses '%s'%s", name,
    #near > 0 and ("; did you mean " .. concat(near, " or ") .. "?") or "")
end

-- A plain string where the facts hold texts: the texts it would be.
local function hint_text(kb, s, p, out)
  if used(kb, s) then return end
  local langs, seen = {}, {}
  for _, _, o in kb:match(nil, p, nil) do
    if type(o) == "table" and getmetatable(o) == Text and fold(o.text) == fold(s) and not seen[o.lang or ""] then
      seen[o.lang or ""] = true
      langs[#langs + 1] = o.lang and format('lore.text(%q, %q)', o.text, o.lang) or format("lore.text(%q)", o.text)
    end
  end
  if #langs > 0 then
    out[#out + 1] = format("'%s' is a symbol, not a text; the facts hold %s", s, concat(langs, " or "))
    return true
  end
end

-- kb:hint(query text) or kb:hint(s, p, o) -> a list of reasons why it may
-- find nothing: a name no fact uses (with the nearest that exist), a plain
-- string where the facts hold texts.  The REPL prints them under an empty
-- result; scripts call it.
function kb_methods:hint(a, p, o)
  local out = {}
  if type(a) == "string" and p == nil and o == nil and a:find("[%s?]") then
    -- the names: without strings, IRIs, comments and variables
    local text = a:gsub('"[^"]*"', " "):gsub("'[^']*'", " "):gsub("<[^>]*>", " "):gsub("#[^\n]*", " ")
      :gsub("%?[%w_\128-\255]*", " ")
    local seen = {}
    for tok in text:gmatch("[%w_:%-%.\128-\255]+") do
      if not seen[tok] and not KEYWORDS[tok:lower()] and not tok:match("^[%d%.%-]+$")
        and not tok:match("^%d%d%d%d%-") and tok ~= "_" then
        seen[tok] = true
        hint_name(self, tok, out)
      end
    end
    return out
  end
  local args = { a, p, o }
  for i = 1, 3 do
    local v = args[i]
    if type(v) == "string" and v ~= "_" and v:sub(1, 1) ~= "?" then
      if not (i == 3 and hint_text(self, v, p, out)) then hint_name(self, v, out) end
    end
  end
  return out
end

-- At the REPL an empty result says why: the lore program calls this with
-- the line typed.  The line's string literals are what it asked: text with
-- a space or a variable is a query, the others terms (a string after
-- another is taken as the value of that predicate).
lore._repl_hint = function(kb, line)
  local lits = {}
  for q, body in line:gmatch([[(["'])(.-)%1]]) do lits[#lits + 1] = body end
  local out = {}
  for i, lit in ipairs(lits) do
    if lit:find("[%s?]") then
      for _, h in ipairs(kb:hint(lit)) do out[#out + 1] = h end
    elseif lit ~= "" and lit ~= "_" then
      local h = kb:hint(nil, i > 1 and lits[i - 1] or nil, lit)
      for _, x in ipairs(h) do out[#out + 1] = x end
    end
  end
  local seen, uniq = {}, {}
  for _, h in ipairs(out) do
    if not seen[h] then seen[h] = true; uniq[#uniq + 1] = h end
  end
  return concat(uniq, "\n")
end

-- view(x [, opts]) at the lore program: kb:dot(x, opts) drawn by Graphviz's
-- dot into an SVG file (opts.format = "png" for a PNG, opts.file to name
-- it); returns the file's name, or nil and why (dot not installed).
lore._view = function(kb, x, opts)
  opts = opts or {}
  local fmt = opts.format or "svg"
  if fmt ~= "svg" and fmt ~= "png" then error("bad argument #2 to 'view' (format: svg or png)", 3) end
  if not os.execute("command -v dot >/dev/null 2>&1") then
    return nil, "view: Graphviz's dot is not installed (Debian: apt-get install graphviz); kb:dot(x) gives the DOT text"
  end
  local file = opts.file or (os.tmpname() .. "." .. fmt)
  local dot = kb:dot(x, opts)
  local src = os.tmpname()
  local f = assert(io.open(src, "w"))
  f:write(dot)
  f:close()
  local ok = os.execute(format("dot -T%s -o %q %q 2>/dev/null", fmt, file, src))
  os.remove(src)
  if not ok then return nil, "view: dot failed on the drawing of " .. show(x) end
  return file
end
