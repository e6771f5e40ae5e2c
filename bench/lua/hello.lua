-- The hello-world script for the Lua bench (kite: kite-test-server -L bench/lua,
-- GET /lua/hello.lua; lighttpd: the same answer from mod_magnet).
mg.write("Hello, world!\n")
