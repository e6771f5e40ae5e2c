-- An lhttpd upload handler: reads the body with httpd.read in pieces and
-- answers with its size and MD5; a file handle works as the stream too.
httpd = require 'httpd'

local function upload(env, header)
    local n, parts = 0, {}
    while true do
        local s = httpd.read(nil, 65536)
        if not s then break end
        n = n + #s
        parts[#parts + 1] = s
    end
    httpd.header({[":status"] = "201", ["content-type"] = "text/plain", ["x-handler"] = "upload"})
    httpd.write(nil, n .. " " .. mg.md5(table.concat(parts)) .. "\n")
end

local function file(env, header)
    local f = io.open(env.SCRIPT_FILENAME or debug.getinfo(1, "S").source:sub(2), "r")
    local first = httpd.read(f, 30)
    f:close()
    httpd.write(nil, first)
end

httpd.register_handler("/upload", upload)
httpd.register_handler("file", file)
-- lua-preload-file ran in this script's environment first.
httpd.register_handler("/greet", function(env, header) httpd.write(nil, greet("handler")) end)
