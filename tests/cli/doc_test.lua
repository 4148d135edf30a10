-- doc_test.lua - runs the examples of the manual (README.md, doc/*.md, scripts/README.md)
-- and compares their output with what the pages show.
--
-- The convention, written down in doc/README.md ("How the examples are
-- checked"): every fenced block of a page is either run or marked as not run.
--   ```lore      a REPL transcript: "lore> " lines (and "  ... " continuations)
--                are typed, every other line is the output expected.  All the
--                lore blocks of a page are one session on the shipped
--                knowledge base, run in order by `lore -i`.
--   ```lua       a chunk run whole in that session (its locals are its own);
--                its output is the ```output block right after it, if any.
--   ```console   a shell transcript: "$ " lines run with sh, after the
--                session, in the same scratch directory, `lore` on the PATH;
--                the lines below each one are its output (stdout and stderr).
--   ```X norun   not run (C, shell set-ups, file layouts): the word norun in
--                the info string says so.
-- Any other fenced block fails the test, and so does an indented transcript
-- ("    lore> ", "    $ "), so that no example goes unchecked by mistake.  Each page runs in a fresh scratch directory holding links to the
-- tree's knowledge/ and scripts/ and to the build (as build/).
--
-- Usage: lore --empty doc_test.lua LORE ROOT [PAGE...]
-- (PAGE relative to ROOT; default README.md and every doc/*.md)

local LORE, ROOT = arg[1], arg[2]
assert(LORE and ROOT, "usage: lore --empty doc_test.lua LORE ROOT [PAGE...]")

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function run(cmd)
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("a")
  p:close()
  return out
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function write(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

local function lines(s)
  local t = {}
  for l in (s .. "\n"):gmatch("(.-)\n") do t[#t + 1] = l end
  if t[#t] == "" then t[#t] = nil end
  return t
end

-- The pages: those named, or README.md, doc/*.md and scripts/README.md.
local pages = {}
for i = 3, #arg do pages[#pages + 1] = arg[i] end
if #pages == 0 then
  pages[1] = "README.md"
  for name in run("ls " .. sh_quote(ROOT .. "/doc")):gmatch("[^\n]+") do
    if name:match("%.md$") then pages[#pages + 1] = "doc/" .. name end
  end
  pages[#pages + 1] = "scripts/README.md"
end

-- Splits a page into its fenced blocks: {info =, line =, body = {lines}}.
local function blocks(page)
  local out, cur = {}, nil
  local n = 0
  for l in io.lines(ROOT .. "/" .. page) do
    n = n + 1
    if cur then
      if l:match("^" .. cur.fence .. "%s*$") then
        out[#out + 1] = cur
        cur = nil
      else
        cur.body[#cur.body + 1] = l
      end
    else
      local fence, info = l:match("^(```+)%s*(.-)%s*$")
      if fence then
        cur = {fence = fence, info = info, line = n, body = {}}
      elseif l:match("^    +lore> ") or l:match("^    +%$ ") then
        error(page .. ":" .. n .. ": an indented example is not run (write it as a fenced " ..
              "lore or console block)", 0)
      end
    end
  end
  if cur then error(page .. ":" .. cur.line .. ": a fenced block is not closed", 0) end
  return out
end

-- A Lua string literal on one line (the REPL reads line by line).
local function oneline(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    if c == "\n" then return "\\n" end
    if c == '"' or c == "\\" then return "\\" .. c end
    return string.format("\\%03d", c:byte())
  end) .. '"'
end

local total, failed, examples = 0, 0, 0

-- Compares got with want line by line; the @@ markers name the block.
local function compare(page, what, want, got)
  if want == got then return true end
  local w, g = lines(want), lines(got)
  local where = page
  for i = 1, math.max(#w, #g) do
    if w[i] and w[i]:match("^@@ ") then where = w[i]:sub(4) end
    if w[i] ~= g[i] then
      print(string.format("FAIL %s: %s shows other output (example at %s)", page, what, where))
      print("  expected: " .. (w[i] or "(nothing more)"))
      print("  got:      " .. (g[i] or "(nothing more)"))
      return false
    end
  end
  return true
end

local function check_page(page)
  local ok, bs = pcall(blocks, page)
  if not ok then
    print("FAIL " .. bs)
    return false
  end
  local cmds, want, shell = {}, {}, {}
  local i = 1
  local good = true
  while i <= #bs do
    local b = bs[i]
    local at = page .. ":" .. b.line
    local kind = b.info:match("^(%S*)")
    if b.info:match("%f[%w]norun%f[%W]") then
      -- not run, on purpose
    elseif kind == "lore" then
      examples = examples + 1
      cmds[#cmds + 1] = "print(" .. oneline("@@ " .. at) .. ")"
      want[#want + 1] = "@@ " .. at
      local typed = false
      for _, l in ipairs(b.body) do
        local cmd = l:match("^lore> (.*)$")
        local more = typed and l:match("^  %.%.%. ?(.*)$")
        if cmd then
          cmds[#cmds + 1] = cmd
          typed = true
        elseif more then
          cmds[#cmds + 1] = more
        else
          want[#want + 1] = l
          typed = false
        end
      end
    elseif kind == "lua" then
      examples = examples + 1
      cmds[#cmds + 1] = "print(" .. oneline("@@ " .. at) .. ")"
      want[#want + 1] = "@@ " .. at
      cmds[#cmds + 1] = "assert(load(" .. oneline(table.concat(b.body, "\n")) .. ", " ..
                        oneline("=" .. at) .. "))()"
      local nextb = bs[i + 1]
      if nextb and nextb.info == "output" then
        for _, l in ipairs(nextb.body) do want[#want + 1] = l end
        i = i + 1
      end
    elseif kind == "console" then
      examples = examples + 1
      local cur
      for n, l in ipairs(b.body) do
        local cmd = l:match("^%$ (.*)$")
        if cmd then
          cur = {cmd = cmd, at = page .. ":" .. (b.line + n), out = {}}
          shell[#shell + 1] = cur
        elseif cur then
          cur.out[#cur.out + 1] = l
        else
          print("FAIL " .. at .. ": a console block starts with a line that is not a command")
          good = false
        end
      end
    else
      print(string.format("FAIL %s: a ```%s block is neither run (lore, lua, console) " ..
                          "nor marked norun", at, b.info))
      good = false
    end
    i = i + 1
  end

  local dir = run("mktemp -d"):gsub("%s+$", "")
  local bin = LORE:match("^(.*)/[^/]*$") or "."
  for _, d in ipairs({"knowledge", "scripts"}) do
    os.execute("ln -s " .. sh_quote(ROOT .. "/" .. d) .. " " .. sh_quote(dir .. "/" .. d))
  end
  os.execute("ln -s " .. sh_quote(bin) .. " " .. sh_quote(dir .. "/build"))
  local cd = "cd " .. sh_quote(dir) .. " && "

  if #cmds > 0 then
    write(dir .. "/.commands", table.concat(cmds, "\n") .. "\n")
    local got = run(cd .. sh_quote(LORE) .. " -i <.commands 2>&1")
    if not compare(page, "the REPL session", table.concat(want, "\n") .. "\n", got) then
      write(dir .. "/.expected", table.concat(want, "\n") .. "\n")
      write(dir .. "/.got", got)
      good = false
    end
  end
  for _, c in ipairs(shell) do
    local got = run(cd .. "PATH=" .. sh_quote(bin) .. ":\"$PATH\" sh -c " .. sh_quote(c.cmd) ..
                    " 2>&1")
    local exp = #c.out > 0 and table.concat(c.out, "\n") .. "\n" or ""
    good = compare(page, "the command at " .. c.at, exp, got) and good
  end
  if good then
    os.execute("rm -rf " .. sh_quote(dir))
  else
    print("  (kept: " .. dir .. ", with .commands, .expected and .got)")
  end
  return good
end

for _, page in ipairs(pages) do
  total = total + 1
  if check_page(page) then
    print("ok   " .. page)
  else
    failed = failed + 1
  end
end
print(string.format("%d examples in %d pages; %d pages failed", examples, total, failed))
os.exit(failed == 0 and 0 or 1)
