-- test_questions.lua - every question of knowledge/QUESTIONS.md: its query
-- runs on the shipped knowledge base and prints exactly the answer given.
local lore = require "lore"
local root = arg[1]
local kb = lore.shipped()
local f = assert(io.open(root .. "/knowledge/QUESTIONS.md"))
local text = f:read("a")
f:close()
local n, failed = 0, {}
for q, block, want in text:gmatch("## (Q%d+)%..-```lua\n(.-)```\n\nIt prints:\n\n```text\n(.-)\n```") do
  local chunk = assert(load("return " .. block, "=" .. q, "t", { kb = kb, lore = lore }))
  local ok, got = pcall(function() return lore.pretty(chunk()) end)
  if not ok then
    failed[#failed + 1] = q .. ": " .. tostring(got)
  elseif got ~= want then
    failed[#failed + 1] = string.format("%s: expected\n%s\ngot\n%s", q, want, got)
  end
  n = n + 1
end
if #failed > 0 then error(table.concat(failed, "\n\n"), 0) end
local questions = select(2, text:gsub("\n## Q%d+%.", ""))
if n ~= questions or n < 20 then
  error(string.format("%d questions, %d with a query and its answer", questions, n), 0)
end
print(n .. " questions answered as written")
