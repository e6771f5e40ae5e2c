-- lua-preload-file: runs in each new environment first.
function greet(who) return "hello, " .. who end
