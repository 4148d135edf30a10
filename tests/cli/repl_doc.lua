-- repl_doc.lua - pulls the REPL session out of a document (REPL.md): the
-- commands after "lore> " (and "  ... " continuations) into one file, the
-- output shown under them into another, so that a test can run the
-- commands through `lore -i` and compare.  Examples whose output the
-- document does not show (help()) are left out.
-- Usage: lore --empty repl_doc.lua DOC COMMANDS EXPECTED
local doc, cmds, want = arg[1], arg[2], arg[3]
local c, w = {}, {}
local in_block, skip = false, false
for line in io.lines(doc) do
  local cmd = line:match("^    lore> (.*)$")
  local more = line:match("^      %.%.%. ?(.*)$")
  if cmd then
    skip = cmd == "help()"
    if not skip then c[#c + 1] = cmd end
    in_block = true
  elseif more and in_block then
    if not skip then c[#c + 1] = more end
  elseif in_block and line:match("^    ") then
    if not skip then w[#w + 1] = line:sub(5) end
  else
    in_block = false
  end
end
local f = assert(io.open(cmds, "w"))
f:write(table.concat(c, "\n"), "\n")
f:close()
f = assert(io.open(want, "w"))
f:write(table.concat(w, "\n"), "\n")
f:close()
