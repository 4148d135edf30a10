-- formats.lua - the RDF formats in kb:load: .nt .nq .ttl .trig (and their
-- long names) go to the C reader; kb:export, kb:prefix, kb:prefixes and
-- kb:compact come from lua_formats.c.
local lore, kb_methods = ...

local loaders = lore._loaders

local registry = debug.getregistry()

local function rdf(format)
  -- kb:load(path, {format =, source =, base =, progress =}) -> facts read;
  -- at the lore program's REPL on a terminal, a progress bar by default
  return function(kb, path, opts)
    local internal = registry["lore.internal"]
    if internal and internal.load_progress and not (opts and opts.progress) then
      local o = {}
      for k, v in pairs(opts or {}) do o[k] = v end
      o.progress = internal.load_progress(path)
      opts = o
    end
    return kb_methods._import(kb, path, format, opts)
  end
end

loaders.nt, loaders.ntriples = rdf("nt"), rdf("nt")
loaders.nq, loaders.nquads = rdf("nq"), rdf("nq")
loaders.ttl, loaders.turtle = rdf("ttl"), rdf("ttl")
loaders.trig = rdf("trig")
