-- test_questions.lua - every query of knowledge/QUESTIONS.md runs on the
-- shipped knowledge base and finds at least one row.
local lore = require "lore"
local root = arg[1]
local kb = lore.new()
assert(kb:load(root .. "/knowledge/press.json"))
local f = assert(io.open(root .. "/knowledge/QUESTIONS.md"))
local text = f:read("a")
f:close()
local n = 0
for q, block in text:gmatch("## (Q%d+)%..-```lua\n(.-)```") do
  local chunk = assert(load("return " .. block, "=" .. q, "t", { kb = kb, lore = lore }))
  local ok, r = pcall(chunk)
  if not ok then error(q .. ": " .. tostring(r), 0) end
  if r:count() == 0 then error(q .. ": no rows", 0) end
  n = n + 1
end
if n ~= 30 then error("expected the 30 questions' queries, found " .. n, 0) end
