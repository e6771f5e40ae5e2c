httpd = require 'httpd'

local function foo(env, header) 
    local head = {[":status"] = "200"} 
    httpd.header(head)

    for n,v in pairs(env) do
        httpd.write(nil, n.." "..v.."\n")
    end
    for n,v in pairs(header) do
        httpd.write(nil, n.." "..v.."\n")
    end
end

httpd.register_handler("/bar", foo)
