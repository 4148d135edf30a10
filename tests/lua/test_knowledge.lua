-- test_knowledge.lua - the shipped knowledge base keeps its promises: every
-- fact has a named source, every sentence is a source beyond its own facts,
-- every entity has an English name, every French label is words of the text,
-- and every inferred fact says from which sentences and why.
local lore = require "lore"
local kb = lore.new()
assert(kb:load(arg[1] .. "/knowledge/press.json"))
local problems = {}
local function bad(fmt, ...) problems[#problems + 1] = string.format(fmt, ...) end

-- the text, sentence by sentence
local sentences, text = {}, {}
for s, _, t in kb:match(nil, "text", nil) do
  if kb:count(s, "type", "Sentence") > 0 then
    sentences[s] = true
    text[#text + 1] = t.text:lower()
  end
end
local whole = table.concat(text, "\n")
local n = 0
for _ in pairs(sentences) do n = n + 1 end
if n ~= 13 then bad("expected 13 sentences, found %d", n) end

local per_source = {}
for s, p, o in kb:match() do
  local src = kb:sources(s, p, o)
  if #src == 0 or src.default then bad("no named source: %s %s %s", s, p, lore.show(o)) end
  for _, x in ipairs(src) do
    -- a sentence's own facts (s is the sentence) do not count for it
    if s ~= x then per_source[x] = (per_source[x] or 0) + 1 end
  end
end
for i = 1, 13 do
  local src = "press:s" .. i
  if (per_source[src] or 0) == 0 then bad("%s is the source of no fact beyond its own", src) end
end

-- every sentence has one English translation, its own source, that is not
-- the French text
for sentence in pairs(sentences) do
  local tr = kb:values(sentence, "translation")
  if #tr ~= 1 or not lore.istext(tr[1]) or tr[1].lang ~= "en" then
    bad("%s has no single English translation", sentence)
  else
    local src = kb:sources(sentence, "translation", tr[1])
    if src[1] ~= sentence or #src ~= 1 then bad("the translation of %s is not its own fact", sentence) end
    if whole:find(tr[1].text:lower(), 1, true) then bad("the translation of %s is French", sentence) end
  end
end

-- sentence 7 is a commitment that reaches Ukraine, made by the Allies
local s7 = {}
for c in kb:match(nil, "sentence", "press:s7") do
  if kb:count(c, "type", "Commitment") > 0 and kb:count(c, "beneficiary", "ukraine") > 0
    and kb:count(c, "committed_by", "allies") > 0 then s7[#s7 + 1] = c end
end
if #s7 ~= 1 then bad("sentence 7 states %d commitments to Ukraine, expected 1", #s7) end

-- every subject that is an entity has one English name
for s in pairs((function()
  local subjects = {}
  for s in kb:match() do if type(s) == "string" then subjects[s] = true end end
  return subjects
end)()) do
  local en = 0
  for _, nm in ipairs(kb:values(s, "name")) do
    if lore.istext(nm) and nm.lang == "en" then en = en + 1 end
  end
  if en ~= 1 then bad("%s has %d English names", s, en) end
end

-- French labels are the text's own words
for s, _, l in kb:match(nil, "label", nil) do
  if not (lore.istext(l) and l.lang == "fr") then
    bad("label of %s is not a French text: %s", s, lore.show(l))
  elseif not whole:find(l.text:lower(), 1, true) then
    bad("label of %s is not in the text: %s", s, lore.show(l))
  end
end

-- inferred facts: each has a note naming it, its sentences and a reason
-- (the notes themselves, and the name and class of an entity that only an
-- inference brings in, are exempt)
local function introduced(e)
  return kb:count(nil, "concludes_object", e) + kb:count(nil, "concludes_subject", e) > 0
end
for s, p, o in kb:match() do
  local src = kb:sources(s, p, o)
  local exempt = kb:count(s, "type", "Inference") > 0 or ((p == "type" or p == "name") and introduced(s))
  if src[1] == "press:inferred" and not exempt then
    local found
    for note in kb:match(nil, "concludes_subject", s) do
      if kb:value(note, "concludes_predicate") == p and kb:count(note, "concludes_object", o) > 0 then
        found = note
      end
    end
    if not found then
      bad("inferred fact without a note: %s %s %s", s, p, lore.show(o))
    else
      if #kb:values(found, "from") == 0 then bad("%s names no sentence", found) end
      if not kb:value(found, "reason") then bad("%s gives no reason", found) end
      for _, from in ipairs(kb:values(found, "from")) do
        if not sentences[from] then bad("%s cites %s, not a sentence", found, tostring(from)) end
      end
    end
  end
end

if #problems > 0 then error(table.concat(problems, "\n"), 0) end
print("ok")
