-- Example 1 of lua-websockets, on kite: a websocket echo server.
--   lua5.4 echo.lua [port]       (default 8080; 0 picks a free port)
-- Connect from a browser console:
--   var ws = new WebSocket('ws://127.0.0.1:8080', 'echo')
local websockets = require 'kite.websockets' -- was: require 'websockets'

local context = websockets.context({
  port = tonumber(arg[1]) or 8080,
  protocols = {
    -- called for every new client; ws is its websocket
    echo = function(ws)
      -- called for every message; kind is WRITE_TEXT or WRITE_BINARY
      ws:on_receive(function(ws, data, kind)
        ws:write(data, kind)
      end)
    end
  }
})
print('listening on port ' .. context:port())
io.stdout:flush()

-- kite's own event loop dispatches the events.
while true do
  context:service(100000)
end
