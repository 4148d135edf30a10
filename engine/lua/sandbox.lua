-- sandbox.lua - lore.sandbox: runs Lua written by someone the host does not
-- trust against a knowledge base, with an allow-listed environment, a
-- knowledge-base handle that offers only what the host grants, and three
-- budgets (instructions, wall-clock time, memory), enforced by the C half
-- (lua_sandbox.c, lore._run) inside lore's own loops too.  A run that fails
-- or exhausts a budget leaves the knowledge base as it was.
local lore, kb_methods = ...

local run = lore._run
local type, pairs, ipairs, select, error, tostring = type, pairs, ipairs, select, error, tostring
local getmetatable, setmetatable, load, next = getmetatable, setmetatable, load, next
local pack, unpack, format = table.pack, table.unpack, string.format

-- What a sandboxed handle offers.  Reads always; changes unless the host
-- made it read-only; files only where the host allows them.  Never: value
-- functions (kb:fn: they would run later, outside any budget), nested
-- transactions, the durable store's own operations, and the raw loader.
local READ = {
  count = true, match = true, query = true, q = true, select = true, plan = true, why = true,
  sources = true, value = true, values = true, derived = true, terms = true, rules = true,
  reach = true, prefixes = true,
}
local WRITE = {
  add = true, remove = true, retract_source = true, rule = true, remove_rule = true,
  infer = true, clear_derived = true, prefix = true, batch = true, on = true,
}
local FILES_READ, FILES_WRITE = { export = true }, { load = true, save = true }

-- The base functions a script may use: none can reach outside its
-- environment (no dofile, loadfile, require of modules, debug, io, os but
-- its clock, package, coroutines, whose threads the budgets' hook would
-- not see).
local SAFE = {
  "assert", "error", "ipairs", "next", "pairs", "pcall", "rawequal", "rawget", "rawlen", "rawset",
  "select", "tonumber", "tostring", "type", "xpcall", "_VERSION",
}
local LIB = {
  "text", "date", "istext", "isdate", "show", "pretty", "tabulate", "wrap", "version", "_VERSION",
  "max_nesting",
}

local function copy(t, without)
  local c = {}
  for k, v in pairs(t) do if k ~= without then c[k] = v end end
  return c
end

-- Lua's matcher has no bound on its work and the hook cannot stop a C
-- function: one backtracking pattern could hold the host for hours.  Each
-- pattern call of a run first walks the subject as the matcher will, under
-- the run's budgets (lore._pattern_walk); strings' methods (s:find) are the
-- run's copy while it runs (lore._run).
local tsort, tmove, tinsert, tremove, srep = table.sort, table.move, table.insert, table.remove, string.rep
local function lessthan(a, b) return a < b end
local tointeger = math.tointeger

-- An integer as Lua's library functions take one (a float with an integer
-- value, a numeric string), or nil.
local function int(x)
  local n = tonumber(x)
  return n and tointeger(n)
end

-- Some library loops run in C a number of times a script chooses, with
-- nothing to allocate: no budget could stop them.  Their sandboxed forms:
local MOVE_CHUNK = 1 << 16
local charge = lore._charge
local function move(a1, f, e, t, a2) -- in chunks, each charged to the budgets
  local fi, ei, ti = int(f), int(e), int(t)
  if not (fi and ei and ti) or ei < fi or ei - fi < MOVE_CHUNK then
    return tmove(a1, f, e, t, a2) -- small, empty, or for Lua to refuse
  end
  local dst = a2 == nil and a1 or a2
  if ti > ei or ti <= fi or dst ~= a1 then -- as Lua: forward unless overlapping to the right
    for s = fi, ei, MOVE_CHUNK do
      charge(MOVE_CHUNK)
      tmove(a1, s, s + MOVE_CHUNK - 1 < ei and s + MOVE_CHUNK - 1 or ei, ti + (s - fi), dst)
    end
  else
    for last = ei, fi, -MOVE_CHUNK do
      charge(MOVE_CHUNK)
      local s = last - MOVE_CHUNK + 1 > fi and last - MOVE_CHUNK + 1 or fi
      tmove(a1, s, last, ti + (s - fi), dst)
    end
  end
  return dst
end
-- insert and remove shift the elements between a position and #t, which
-- a border far out (t[1], t[2], t[4] ... t[2^40] set) or __len makes
-- anything: a long shift goes through move's chunks
local function insert(t, ...)
  local n = select("#", ...)
  if n == 2 then
    local pos, e = int((...)), int(#t)
    if pos and e and pos >= 1 and pos <= e + 1 and e + 1 - pos > MOVE_CHUNK then
      move(t, pos, e, pos + 1)
      t[pos] = select(2, ...)
      return
    end
  end
  return tinsert(t, ...)
end
local function remove(t, ...)
  local pos, size = int((...)), int(#t)
  if select("#", ...) > 0 and pos and size and pos >= 1 and size - pos > MOVE_CHUNK then
    local v = t[pos]
    move(t, pos + 1, size, pos)
    t[size] = nil
    return v
  end
  return tremove(t, ...)
end
local function rep(str, n, sep) -- nothing to repeat still turns n times
  if (type(str) == "string" or type(str) == "number") and #tostring(str) == 0 and
      (sep == nil or ((type(sep) == "string" or type(sep) == "number") and #tostring(sep) == 0)) and
      int(n) then
    return ""
  end
  return srep(str, n, sep)
end
local pattern_walk = lore._pattern_walk
local sfind, smatch, sgmatch, sgsub = string.find, string.match, string.gmatch, string.gsub
local function walk(str, pat, init, max)
  local why = pattern_walk(str, pat, init, max)
  if why then error(why, 3) end -- where the script called
end
local function strings()
  local s = copy(string, "dump")
  s.rep = rep
  s.find = function(str, pat, init, plain)
    if not plain then
      walk(str, pat, init, 1)
    elseif (type(pat) == "string" or type(pat) == "number") and #tostring(pat) > 16 then
      -- a plain search compares up to the needle's length at each byte: a
      -- long needle of a repeated byte in a long haystack of it takes hours
      walk(str, (sgsub(tostring(pat), "[%^%$%*%+%?%.%(%)%[%]%%%-]", "%%%0")), init, 1)
    end
    return sfind(str, pat, init, plain)
  end
  s.match = function(str, pat, init) walk(str, pat, init, 1) return smatch(str, pat, init) end
  s.gmatch = function(str, pat, init) walk(str, pat, init, -1) return sgmatch(str, pat, init) end
  s.gsub = function(str, pat, repl, n)
    walk(str, pat, 1, math.type(n) == "integer" and n or -1)
    return sgsub(str, pat, repl, n)
  end
  return s
end

-- A rule handed over as a table must hold no Lua function: it would run
-- at every later inference, outside the run and its budgets.
local function plain(v, depth)
  if type(v) == "function" then return false end
  if type(v) == "table" and depth < 64 then
    for k, x in next, v do
      if not plain(k, depth + 1) or not plain(x, depth + 1) then return false end
    end
  end
  return true
end

-- The handle a script sees: a table whose methods call the real ones on
-- the host's kb, which the script never holds.
local function handle(kb, opts, triggers)
  local h, methods = {}, {}
  local function fix(...) -- the real kb never goes back to the script
    local n = select("#", ...)
    if n == 1 then
      local v = ...
      if v == kb then return h end
      return v
    end
    local r = pack(...)
    for i = 1, r.n do if r[i] == kb then r[i] = h end end
    return unpack(r, 1, r.n)
  end
  -- a method's error comes out where the script called it, named as Lua
  -- names a method (called here through pcall, lore's C function has no
  -- name of its own: "bad argument #2 to '?'" is the handle's #1 to NAME)
  local function finish(level, name, ok, ...) -- level: the script's call, seen from here
    if ok then return fix(...) end
    local err = ...
    if type(err) == "string" then
      err = err:gsub("^bad argument #(%d+) to '%?'", function(n)
        return format("bad argument #%d to '%s'", tonumber(n) - 1, name)
      end)
    end
    error(err, level)
  end
  for name, f in pairs(kb_methods) do
    if type(f) == "function" and name:sub(1, 1) ~= "_" then
      local ok = READ[name] or (WRITE[name] and not opts.readonly)
        or (FILES_READ[name] and opts.files) or (FILES_WRITE[name] and opts.files and not opts.readonly)
      if not ok then
        local why = (WRITE[name] or FILES_WRITE[name]) and opts.readonly and "this knowledge base is read-only"
          or (FILES_READ[name] or FILES_WRITE[name]) and "file access is not allowed here"
          or "not available in the sandbox"
        methods[name] = function() error(format("kb:%s: %s", name, why), 2) end
      elseif name == "rule" then
        methods[name] = function(_, spec, ...)
          if type(spec) == "table" and not plain(spec, 0) then
            error("kb:rule: a sandboxed rule cannot hold Lua functions", 2)
          end
          return finish(2, name, pcall(f, kb, spec, ...))
        end
      elseif name == "on" or name == "batch" then
        local function keep(t) -- a script's triggers and batches last as long as its run
          triggers[#triggers + 1] = t
          return t
        end
        methods[name] = function(_, ...) return keep(finish(3, name, pcall(f, kb, ...))) end
      else
        methods[name] = function(_, ...) return finish(2, name, pcall(f, kb, ...)) end
      end
    end
  end
  return setmetatable(h, {
    __index = methods,
    __newindex = function() error("the knowledge base handle cannot be changed", 2) end,
    __len = function() return #kb end,
    __tostring = function() return "lore.kb (sandboxed)" end,
    __metatable = "lore.kb (sandboxed)",
  })
end

-- A fresh environment per run: the allow-listed globals, copies of the
-- libraries (a script that changes string.rep changes its own copy), and
-- metatables it did not make out of its reach.
local function environment(h, opts)
  local env, mine = {}, setmetatable({}, { __mode = "k" })
  for _, k in ipairs(SAFE) do env[k] = _G[k] end
  env._G = env
  env.string = strings()
  env.table = copy(table)
  -- table.sort's own comparisons run in C, where no budget can stop them
  -- (a million numbers: half a second); through a Lua comparison the hook
  -- and the deadline reach every step
  env.table.sort = function(t, less) return tsort(t, less or lessthan) end
  env.table.move = move
  env.table.insert = insert
  env.table.remove = remove
  env.math = copy(math)
  env.utf8 = copy(utf8)
  env.os = { time = os.time, clock = os.clock, date = os.date }
  env.load = function(chunk, name, mode, e)
    if mode ~= nil and mode ~= "t" then error("load: only text chunks in the sandbox", 2) end
    return load(chunk, name, "t", e or env)
  end
  env.collectgarbage = function(opt)
    if opt == nil or opt == "count" then return collectgarbage("count") end
    error("collectgarbage: only 'count' in the sandbox", 2)
  end
  env.getmetatable = function(x)
    local mt = type(x) == "table" and getmetatable(x) or nil
    if mt == nil or type(mt) ~= "table" or mine[mt] then return mt end
    return "protected"
  end
  env.setmetatable = function(t, mt)
    if type(t) ~= "table" then error("setmetatable: a table expected", 2) end
    local cur = getmetatable(t)
    if cur ~= nil and not mine[cur] then error("setmetatable: cannot change a protected metatable", 2) end
    -- a finalizer would run at some later collection, in the host, outside
    -- every budget (Lua marks an object for one only when it gets such a
    -- metatable, so adding __gc afterwards does nothing)
    if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
      error("setmetatable: a finalizer (__gc) would run outside the sandbox's run", 2)
    end
    if mt ~= nil then mine[mt] = true end
    return setmetatable(t, mt)
  end
  local lib = {}
  for _, k in ipairs(LIB) do lib[k] = lore[k] end
  env.require = function(name)
    if name == "lore" then return lib end
    error(format("module '%s' is not available in the sandbox", tostring(name)), 2)
  end
  env.lore = lib
  env.kb = h
  if type(opts.print) == "function" then env.print = opts.print end
  return env
end

lore._handle = function(kb, readonly, files) -- for lore_lua_pushkb (lua_bridge.c)
  return handle(kb, { readonly = readonly, files = files }, {})
end

local OPTIONS = {
  instructions = "number", deadline = "number", memory = "number", files = "boolean",
  readonly = "boolean", print = "function",
}

local Sandbox = {}
Sandbox.__index = Sandbox
Sandbox.__name = "lore.sandbox"
Sandbox.__metatable = "lore.sandbox"

-- box:run(kb, code [, name]) -> true, results... or nil, message
function Sandbox:run(kb, code, name)
  if type(code) ~= "string" then error("bad argument #2 to 'run' (Lua source text expected)", 2) end
  local count = kb_methods.count
  if type(kb) ~= "userdata" or not pcall(count, kb) then
    error("bad argument #1 to 'run' (an open knowledge base expected)", 2)
  end
  local opts, triggers = self.opts, {}
  -- the run's own preparation counts against its memory cap (lore_lua_run
  -- measures from before it made this sandbox)
  local before_kb = rawget(self, "_kib_before") or collectgarbage("count")
  local env = environment(handle(kb, opts, triggers), opts)
  local fn, err = load(code, "=" .. (name or "sandbox"), "t", env)
  if not fn then return nil, err end
  local before = {}
  for _, r in ipairs(kb:rules()) do before[r.name] = true end
  local function close() -- triggers cancelled, batches left open abandoned
    for _, t in ipairs(triggers) do
      local mt = getmetatable(t)
      if mt and mt.__close then pcall(mt.__close, t) elseif t.cancel then pcall(t.cancel, t) end
    end
  end
  local r = pack(run(kb, fn, opts.instructions or 0, opts.deadline or 0, opts.memory or 0, close, before_kb,
    env.string))
  if r[1] == nil then -- the rules it added go with its facts
    for _, rule in ipairs(kb:rules()) do
      if not before[rule.name] then pcall(kb.remove_rule, kb, rule.name) end
    end
  end
  return unpack(r, 1, r.n)
end

-- lore.sandbox{instructions =, deadline = ms, memory = bytes, files =,
-- readonly =, print =} -> a sandbox whose :run(kb, code) runs code
function lore.sandbox(opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("bad argument #1 to 'sandbox' (table of options expected)", 2) end
  local o = {}
  for k, v in pairs(opts) do
    local want = OPTIONS[k]
    if not want then
      error(format("bad argument #1 to 'sandbox' (unknown option '%s')", tostring(k)), 2)
    elseif type(v) ~= want or (want == "number" and (v < 0 or v ~= v)) then
      error(format("bad argument #1 to 'sandbox' (%s: %s expected)", k,
        want == "number" and "a number >= 0" or "a " .. want), 2)
    end
    o[k] = v
  end
  if o.instructions then o.instructions = math.floor(o.instructions) end
  if o.deadline then o.deadline = math.floor(o.deadline) end
  if o.memory then o.memory = math.floor(o.memory) end
  return setmetatable({ opts = o }, Sandbox)
end
