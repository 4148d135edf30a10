-- shipped.lua - run by a stock lua5.4 that sees only the installed lore
-- (LUA_CPATH set to the prefix): the module comes from there, and
-- lore.shipped() opens the knowledge installed beside it.
local prefix = arg[1]
local lore = require "lore"
local function say(...) io.write(table.concat({ ... }, " "), "\n") end
local where = package.searchpath("lore", package.cpath)
say("module:", where:sub(1, #prefix) == prefix and where:sub(#prefix + 1) or where)
say("version:", lore._VERSION)
say("home under the prefix:", tostring(lore.home:sub(1, #prefix) == prefix))
local kb = lore.shipped()
say("facts:", tostring(#kb > 600))
print(lore.pretty(kb:q [[ ?c type Count . ?c counts signatory_allies . ?c value ?n . ?c as_of ?d ]]))
print(lore.pretty(kb:q [[ ?who commits_to ukraine . order by ?who ]]))
