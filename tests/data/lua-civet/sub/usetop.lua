-- helper.lua is not beside this script: it is found in the document root
local h = require("helper")
mg.write("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n", h.greet("from sub"), "\n")
