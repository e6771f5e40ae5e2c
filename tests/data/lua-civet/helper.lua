-- a module beside the script that requires it
helper_global = "set by helper"
local M = {}
function M.greet(who) return "hello " .. who end
return M
