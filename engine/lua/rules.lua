-- rules.lua - the pure-Lua half of rules: proofs printed as trees, derived
-- facts listed, rule files (.rules) loaded.  Runs once when the module
-- opens; the proof and trigger classes come from lua_rules.c.
local lore, kb_methods = ...

local Proof, Trigger = lore._Proof, lore._Trigger
lore._Proof, lore._Trigger = nil, nil

local format, concat, rep = string.format, table.concat, string.rep
local math_type, type, ipairs, pairs = math.type, type, ipairs, pairs

-- ---------------------------------------------------------------------------
-- Proofs

-- A term as the C proof text writes it (lore_proof_text): symbols and
-- dates bare, texts quoted (\" \\ \n escaped) with their tag, doubles with
-- a fraction or an exponent.
local function term(v)
  local t = type(v)
  if t == "string" then return v end
  if t == "boolean" then return tostring(v) end
  if t == "number" then
    if math_type(v) == "integer" then return format("%d", v) end
    local s
    for digits = 15, 17 do
      s = format("%." .. digits .. "g", v)
      if tonumber(s) == v then break end
    end
    if not s:find("[%.eEn]") then s = s .. ".0" end
    return s
  end
  if lore.istext(v) then
    local q = '"' .. v.text:gsub('[\\"]', "\\%0"):gsub("\n", "\\n") .. '"'
    return v.lang and (q .. "@" .. v.lang) or q
  end
  if lore.isdate(v) then return v.date end
  return tostring(v)
end

local function fact(f) return term(f[1]) .. " " .. term(f[2]) .. " " .. term(f[3]) end

-- The proof as an indented tree: each fact with how it holds, premises
-- below their conclusion, a fact met again marked "shown above".
local function render(root)
  local out, seen, shown = {}, {}, {}
  local function walk(p, depth)
    local pad = rep("  ", depth)
    if seen[p] then
      out[#out + 1] = pad .. fact(p.fact) .. "  [shown above]"
      return
    end
    seen[p] = true
    if p.asserted then
      local named = {}
      for i, s in ipairs(p.sources) do named[i] = term(s) end
      if #named == 0 and p.sources.default then named = {} end
      out[#out + 1] = pad .. fact(p.fact) .. "  [asserted" .. (#named > 0 and (": " .. concat(named, ", ")) or "") .. "]"
      for _, n in ipairs(p.notes or {}) do
        out[#out + 1] = pad .. "    note " .. term(n.note) .. (n.reason and (": " .. term(n.reason)) or "")
      end
      local function sentence(s)
        local text = p.sources.sentences[s]
        if text and not shown[s] then -- each sentence once
          shown[s] = true
          out[#out + 1] = pad .. "    " .. term(s) .. ": " .. term(text)
          local tr = p.translations and p.translations[s]
          if tr then out[#out + 1] = pad .. "      translation: " .. term(tr) end
        end
      end
      for _, s in ipairs(p.sources) do sentence(s) end
      for _, n in ipairs(p.notes or {}) do
        for _, s in ipairs(n.from) do sentence(s) end
      end
    elseif p.rule then
      local b = {}
      for _, name in ipairs(p.vars) do
        local v = p.bindings[name]
        if v ~= nil then b[#b + 1] = "?" .. name .. " = " .. term(v) end
      end
      out[#out + 1] = pad .. fact(p.fact) .. "  [rule " .. p.rule .. (#b > 0 and (": " .. concat(b, ", ")) or "") .. "]"
      for _, q in ipairs(p.premises) do walk(q, depth + 1) end
    else
      out[#out + 1] = pad .. fact(p.fact) .. "  [derived; no proof found]"
    end
  end
  walk(root, 0)
  return concat(out, "\n")
end

Proof.__name = "lore.proof"
Proof.__tostring = function(p)
  if p.text then return p.text end
  return render(p)
end
Proof.__index = {}
lore._render_proof = render

-- kb:why adds what the knowledge's own vocabulary says about the sources
-- (knowledge/README.md): a sentence's English `translation`, and for a fact
-- that an `Inference` note concludes (`concludes_subject`, `_predicate`,
-- `_object`), the note, its `reason` and the sentences it comes `from`.
-- The C proof text (lore_proof_text) knows only `text`; the tree printed
-- from Lua is rendered again with these.
local c_why = kb_methods.why

local function first_object(kb, s, p)
  for _, _, o in kb:match(s, p, nil) do return o end
  return nil
end

local function annotate(kb, root)
  local seen, sentences = {}, {}
  local function source_text(s)
    if sentences[s] == nil then sentences[s] = first_object(kb, s, "text") or false end
    return sentences[s] or nil
  end
  local function walk(p)
    if seen[p] then return end
    seen[p] = true
    if p.asserted then
      local f = p.fact
      for n in kb:match(nil, "concludes_subject", f[1]) do
        if kb:count(n, "concludes_predicate", f[2]) > 0 and kb:count(n, "concludes_object", f[3]) > 0 then
          local note = { note = n, reason = first_object(kb, n, "reason"), from = {} }
          for _, _, s in kb:match(n, "from", nil) do
            note.from[#note.from + 1] = s
            p.sources.sentences[s] = p.sources.sentences[s] or source_text(s)
          end
          p.notes = p.notes or {}
          p.notes[#p.notes + 1] = note
        end
      end
      local function translate(s)
        local tr = first_object(kb, s, "translation")
        if tr then
          p.translations = p.translations or {}
          p.translations[s] = tr
        end
      end
      for _, s in ipairs(p.sources) do translate(s) end
      for _, n in ipairs(p.notes or {}) do
        for _, s in ipairs(n.from) do translate(s) end
      end
    elseif p.premises then
      for _, q in ipairs(p.premises) do walk(q) end
    end
  end
  walk(root)
  local added = false
  for p in pairs(seen) do added = added or p.notes ~= nil or p.translations ~= nil end
  if added then root.text = render(root) end -- else the C text stands
end

function kb_methods:why(s, p, o)
  local proof = c_why(self, s, p, o)
  if proof then annotate(self, proof) end
  return proof
end

-- ---------------------------------------------------------------------------
-- Derived facts

-- kb:derived(s, p, o) -> the derived facts matching a pattern (an iterator
-- like kb:match's).
function kb_methods:derived(s, p, o)
  return self:match(s, p, o, { derived = true })
end

Trigger.__name = "lore.trigger"
Trigger.__tostring = function() return "lore.trigger" end

-- ---------------------------------------------------------------------------
-- Rule files

-- Splits a rule file into rules: a rule starts at a line that does not
-- begin with a space (a "name:" or a head), and runs on over the indented
-- lines after it; '#' starts a comment, blank lines separate.  Returns
-- {{text = ..., line = n}, ...}.
local function split_rules(text)
  local rules, cur = {}, nil
  local n = 0
  for line in (text .. "\n"):gmatch("(.-)\r?\n") do
    n = n + 1
    local body = line:gsub("^%s*#.*$", "")
    if body:match("^%s*$") then
      cur = nil
    elseif body:match("^%s") and cur then
      cur.text = cur.text .. "\n" .. body
    else
      cur = { text = body, line = n }
      rules[#rules + 1] = cur
    end
  end
  return rules
end
lore._split_rules = split_rules

-- Adds rules (texts with their lines) to kb, all or none: on an error the
-- rules added so far are removed.  Returns their number, or nil and
-- "file:line:col: message".
local function add_rules(kb, path, rules)
  local added = {}
  for _, r in ipairs(rules) do
    local ok, name = pcall(kb.rule, kb, r.text)
    if not ok then
      for i = #added, 1, -1 do kb:remove_rule(added[i]) end
      local msg = tostring(name):gsub("^bad argument #%d+ to '[^']*' %((.*)%)$", "%1")
      -- a position in the rule becomes one in the file
      local l, c, rest = msg:match("^rule:(%d+):(%d+):%s*(.*)$")
      if l then
        return nil, format("%s:%d:%d: %s", path, r.line + tonumber(l) - 1, tonumber(c), rest)
      end
      return nil, format("%s:%d: %s", path, r.line, msg)
    end
    added[#added + 1] = name
  end
  return #added
end
lore._add_rules = add_rules

-- kb:load of a .rules file: the rules it holds.
lore._loaders.rules = function(kb, path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local text = f:read("a")
  f:close()
  return add_rules(kb, path, split_rules(text))
end
