-- The peer of hello.lua for the Lua bench: lighttpd's mod_magnet (Debian
-- lighttpd-modules-lua) giving the same answer. In lighttpd.conf:
--   server.modules += ( "mod_magnet" )
--   magnet.attract-raw-url-to = ( "/path/to/bench/lua/magnet-hello.lua" )
lighty.r.resp_header["Content-Type"] = "text/html"
lighty.r.resp_body:set({ "Hello, world!\n" })
return 200
