-- The Lua equivalent of the libwebsockets test server (test-server.lua of
-- lua-websockets, on kite): the dumb-increment and lws-mirror protocols,
-- and on_http serving the test page.
--   lua5.4 test-server.lua [html-dir] [port]
-- (html-dir default: kite's test-apps/html; port default 7681, 0 picks
-- one). Open http://127.0.0.1:7681/ in a browser, or run
--   libwebsockets-test-client 127.0.0.1 -p 7681
local websockets = require 'kite.websockets'
local here = arg[0]:match('(.*/)') or './'
local file_dir = ((arg[1] or '') ~= '' and arg[1] or here .. '../../../test-apps/html') .. '/'
local types = {html = 'text/html', js = 'application/javascript', css = 'text/css',
               svg = 'image/svg+xml', ico = 'image/x-icon', png = 'image/png'}

local context
context = websockets.context{
  port = tonumber(arg[2]) or 7681,
  on_http = function(ws, uri)
    if uri == '/' then uri = '/index.html' end
    local ext = uri:match('%.(%w+)$')
    -- kite has normalised the path: no '..' is left in it
    if ext and types[ext] then
      ws:serve_http_file(file_dir .. uri:sub(2), types[ext])
    end -- anything else is left unanswered: 404
  end,
  protocols = {
    ['dumb-increment-protocol'] = function(ws)
      local number = 0
      -- intercept broadcast and send custom content (as in test-server.c)
      ws:on_broadcast(function(ws)
        ws:write(number, websockets.WRITE_TEXT)
        number = number + 1
      end)
      -- reset counter if requested
      ws:on_receive(function(ws, data)
        if data:match('reset') then
          number = 0
        end
      end)
    end,
    ['lws-mirror-protocol'] = function(ws)
      -- forward broadcast with type WRITE_TEXT
      ws:on_broadcast(websockets.WRITE_TEXT)
      ws:on_receive(function(ws, data)
        ws:broadcast(data)
      end)
    end
  }
}

print(context, context:canonical_hostname())
print('listening on port ' .. context:port())
io.stdout:flush()

while true do
  -- service outstanding io for at most 50 ms
  context:service(50)
  -- notify the 'dumb-increment-protocol' to update their counters
  context:broadcast('dumb-increment-protocol', 'x')
end
