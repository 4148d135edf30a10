-- layers.lua - the include rule of lore's C code, checked: reads the
-- layers in engine/src/LAYERS and every `#include "..."` of the files in
-- those layers, and fails, naming file and line, when a file includes a
-- header of a layer it may not see, or when a core file calls a public
-- function (lore_*) defined in a layer above its own.
--
--   lua5.4 tests/layers.lua ROOT            check the tree at ROOT
--   lua5.4 tests/layers.lua --selftest ROOT check that the checker fails on
--                                           planted violations (in a copy)

local function readfile(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function listdir(dir)
  local p = io.popen('ls -1 "' .. dir .. '" 2>/dev/null')
  local out = {}
  for name in p:lines() do out[#out + 1] = name end
  p:close()
  table.sort(out)
  return out
end

-- The rules: `layer NAME DIR [only NAME...]`, bottom first; `public FILE`;
-- `generated FILE`; `allow FILE HEADER  reason`.  Returns the rules or
-- nil, message.
local function read_rules(root)
  local path = root .. "/engine/src/LAYERS"
  local text = readfile(path)
  if not text then return nil, path .. ": cannot read the layers" end
  local R = { layers = {}, byname = {}, public = {}, generated = {}, allow = {} }
  local n = 0
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    line = line:gsub("#.*", "")
    local words = {}
    for w in line:gmatch("%S+") do words[#words + 1] = w end
    local kind = words[1]
    if kind == "layer" and words[2] and words[3] then
      local L = { name = words[2], dir = words[3], rank = #R.layers + 1 }
      if words[4] == "only" then
        L.only = {}
        for i = 5, #words do L.only[words[i]] = true end
      elseif words[4] then
        return nil, string.format("%s:%d: expected `only` after the folder", path, n)
      end
      R.layers[#R.layers + 1] = L
      R.byname[L.name] = L
    elseif kind == "public" and words[2] then
      R.public[words[2]] = true
    elseif kind == "generated" and words[2] then
      R.generated[words[2]] = true
    elseif kind == "allow" and words[2] and words[3] then
      R.allow[words[2] .. " " .. words[3]] = true
    elseif kind then
      return nil, string.format("%s:%d: expected layer, public, generated or allow", path, n)
    end
  end
  for _, L in ipairs(R.layers) do
    for name in pairs(L.only or {}) do
      if not R.byname[name] then
        return nil, string.format("%s: layer %s names an unknown layer %s", path, L.name, name)
      end
    end
  end
  return R
end

-- May a file of layer A include (or call into) layer B?
local function sees(A, B)
  if A == B then return true end
  if A.only then return A.only[B.name] == true end
  return B.rank < A.rank
end

-- The text of C code without comments and string literals (kept line for
-- line), so that calls are not found in either.
local function code_only(s)
  s = s:gsub("/%*.-%*/", function(c) return (c:gsub("[^\n]", " ")) end)
  s = s:gsub("//[^\n]*", "")
  s = s:gsub('"[^"\n]*"', '""')
  return s
end

local function check(root)
  local R, err = read_rules(root)
  if not R then return { err } end
  local problems = {}
  local function problem(fmt, ...) problems[#problems + 1] = string.format(fmt, ...) end
  local owner = {} -- header name -> layer
  local files = {} -- { path, name, layer }
  for _, L in ipairs(R.layers) do
    local names = listdir(root .. "/" .. L.dir)
    if #names == 0 then problem("%s: layer %s has no files", L.dir, L.name) end
    for _, name in ipairs(names) do
      if name:match("%.[ch]$") then
        files[#files + 1] = { path = L.dir .. "/" .. name, name = name, layer = L }
        if name:match("%.h$") then
          if owner[name] then
            problem("%s/%s: a header of this name is also in %s (names must be unique: "
                    .. "includes name no folder)", L.dir, name, owner[name].dir)
          end
          owner[name] = L
        end
      end
    end
  end
  -- every C file of the core is in a layer's folder
  local p = io.popen('cd "' .. root .. '" && find engine/src -name "*.[ch]" | sort')
  local placed = {}
  for _, f in ipairs(files) do placed[f.path] = true end
  for path in p:lines() do
    if not placed[path] then problem("%s: not in any layer's folder (engine/src/LAYERS)", path) end
  end
  p:close()

  local defined = {} -- lore_* function -> { layer, path }
  for _, f in ipairs(files) do
    f.text = readfile(root .. "/" .. f.path) or ""
    if f.name:match("%.c$") and f.layer.dir:match("^engine/src/") then
      for line in f.text:gmatch("[^\n]+") do
        local fn = line:match("^[%a_][%w_ %*]-[%s%*](lore_[%w_]+)%(")
        if fn and not line:match(";%s*$") then defined[fn] = f end
      end
    end
  end

  for _, f in ipairs(files) do
    local n = 0
    for line in (f.text .. "\n"):gmatch("([^\n]*)\n") do
      n = n + 1
      local h = line:match('^%s*#%s*include%s*"([^"]+)"')
      if h then
        local base = h:match("[^/]+$")
        local L = owner[base]
        if R.allow[f.path .. " " .. base] then
          -- an exception written down in LAYERS
        elseif R.public[base] or R.generated[base] then
          -- the public header, or one the build makes
        elseif h ~= base then
          problem("%s:%d: includes \"%s\": name the header alone (the build puts every "
                  .. "layer's folder on the include path)", f.path, n, h)
        elseif not L then
          problem("%s:%d: includes \"%s\", which is in no layer", f.path, n, h)
        elseif not sees(f.layer, L) then
          problem("%s:%d: includes \"%s\" of layer %s, which layer %s may not include",
                  f.path, n, h, L.name, f.layer.name)
        end
      end
    end
    -- calls into a public function defined in a layer this one may not see
    if f.name:match("%.c$") and f.layer.dir:match("^engine/src/") then
      n = 0
      for line in (code_only(f.text) .. "\n"):gmatch("([^\n]*)\n") do
        n = n + 1
        for fn in line:gmatch("%f[%w_](lore_[%w_]+)%s*%(") do
          local d = defined[fn]
          if d and not sees(f.layer, d.layer) and not R.allow[f.path .. " " .. fn] then
            problem("%s:%d: calls %s, defined in %s of layer %s, which layer %s may not call",
                    f.path, n, fn, d.path, d.layer.name, f.layer.name)
          end
        end
      end
    end
  end
  return problems, #files
end

local function report(root)
  local problems, nfiles = check(root)
  for _, p in ipairs(problems) do io.stderr:write(p, "\n") end
  if #problems > 0 then
    io.stderr:write(string.format("layers: %d problem(s)\n", #problems))
    return false
  end
  print(string.format("layers: %d files, every include and call goes down", nfiles))
  return true
end

-- Copies the tree's layer folders and LAYERS to a temporary directory,
-- plants each violation in turn and expects the checker to name it.
local function selftest(root)
  local tmp = os.tmpname()
  os.remove(tmp)
  local function sh(cmd)
    local ok = os.execute(cmd)
    if not ok then error("failed: " .. cmd) end
  end
  local R = assert(read_rules(root))
  sh(string.format('mkdir -p "%s/engine/src"', tmp))
  sh(string.format('cp "%s/engine/src/LAYERS" "%s/engine/src/"', root, tmp))
  for _, L in ipairs(R.layers) do
    sh(string.format('mkdir -p "%s/%s" && cp "%s/%s"/*.[ch] "%s/%s/"', tmp, L.dir, root, L.dir,
                     tmp, L.dir))
  end
  local failures = 0
  local function expect(what, want)
    local problems = check(tmp)
    local found = false
    for _, p in ipairs(problems) do
      if p:find(want, 1, true) then found = true end
    end
    if found and #problems == 1 then
      print("ok: " .. what)
    else
      failures = failures + 1
      io.stderr:write("not ok: " .. what .. ": expected one problem naming " .. want .. ", got:\n")
      for _, p in ipairs(problems) do io.stderr:write("  ", p, "\n") end
    end
  end
  local function plant(path, text, fn)
    local full = tmp .. "/" .. path
    local old = readfile(full)
    local f = assert(io.open(full, "wb"))
    f:write(text)
    f:close()
    fn()
    f = assert(io.open(full, "wb"))
    if old then f:write(old) else os.remove(full) end
    f:close()
  end
  local clean = check(tmp)
  if #clean == 0 then print("ok: the copy is clean") else
    failures = failures + 1
    io.stderr:write("not ok: the copy has problems before anything is planted\n")
  end
  local lowest, highest = R.layers[1], nil
  for _, L in ipairs(R.layers) do
    if L.dir:match("^engine/src/") then highest = L end
  end
  local top_h
  for _, name in ipairs(listdir(tmp .. "/" .. R.layers[2].dir)) do
    if name:match("%.h$") then top_h = name break end
  end
  local probe = lowest.dir .. "/planted.c"
  plant(probe, '/* planted */\n#include "mem.h"\n#include "' .. top_h .. '"\n', function()
    expect("a base file includes a header of the layer above",
           probe .. ":3: includes \"" .. top_h .. "\"")
  end)
  plant(probe, '#include "nosuch.h"\n', function()
    expect("an include of a header in no layer", probe .. ":1: includes \"nosuch.h\"")
  end)
  plant(probe, 'int planted(void) { return lore_kb_new(0, 0, 0); }\n', function()
    expect("a base file calls a function of the facade", probe .. ":1: calls lore_kb_new")
  end)
  plant(probe, '/* lore_kb_new(0, 0, 0) */\nconst char *s = "lore_kb_new(";\n', function()
    local problems = check(tmp)
    if #problems == 0 then print("ok: calls in comments and strings do not count") else
      failures = failures + 1
      io.stderr:write("not ok: a call in a comment or string counted\n")
    end
  end)
  plant("engine/src/stray.c", "int stray;\n", function()
    expect("a file outside every layer's folder", "engine/src/stray.c: not in any layer")
  end)
  for _, L in ipairs(R.layers) do
    if L.only then
      local f = L.dir .. "/planted.c"
      plant(f, '#include "' .. top_h .. '"\n', function()
        expect("layer " .. L.name .. " includes a core header", f .. ":1: includes")
      end)
      break
    end
  end
  sh(string.format('rm -rf "%s"', tmp))
  if failures > 0 then
    io.stderr:write(string.format("layers selftest: %d failure(s)\n", failures))
    return false
  end
  print("layers selftest: the checker catches every planted violation")
  return true
end

local args = { ... }
if args[1] == "--selftest" then
  os.exit(selftest(args[2] or ".") and 0 or 1)
end
os.exit(report(args[1] or ".") and 0 or 1)
