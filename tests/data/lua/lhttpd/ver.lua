httpd = require 'httpd'
httpd.register_handler("/v", function(env, header) httpd.write(nil, "v1") end)
