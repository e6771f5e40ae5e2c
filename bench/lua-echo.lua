-- The Lua echo server for the bench (issue 11: ws echo 16 B, N=50, through
-- a Lua handler; targets >= 0.5 x kite-test-server's C echo and >= 1.0 x
-- python websockets). Protocol "echo" on path "/", any subprotocol-less
-- client gets it too (it is the only protocol).
--   LUA_CPATH="$PWD/build/apps/lua-kite/?.so;;" lua5.4 bench/lua-echo.lua PORT [ADDRESS]
-- Through the harness's SUT hook (see bench/run.sh), e.g.:
--   SUT_CMD="env LUA_CPATH=$PWD/build/apps/lua-kite/?.so\;\; lua5.4 $PWD/bench/lua-echo.lua \$BENCH_PORT"
--   SUT_HAS=ws SUT_WS_PATH=/ SUT_WS_PROTO=echo
local websockets = require 'kite.websockets'

local context = websockets.context{
  port = tonumber(arg[1]) or 7681,
  interf = arg[2] or '127.0.0.1',
  protocols = {
    echo = function(ws)
      ws:on_receive(function(ws, data, kind) ws:write(data, kind) end)
    end,
  },
}
print('listening on port ' .. context:port())
io.stdout:flush()
while true do
  context:service(1000)
end
