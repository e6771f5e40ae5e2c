-- The lua-kite test server that test_lua_kite.py talks to: one context
-- with the protocols below on 127.0.0.1, an ephemeral port printed as
-- "PORT <n>". arg[1]: a directory on_http serves; arg[2], arg[3]: a
-- certificate and key (wss/https), or '' for none; arg[4] 'extpoll': the
-- context gets on_add_fd & co (kite's external-poll backend) and
-- service() polls the fds itself. It runs until the ctl protocol says
-- "quit", then destroys the context with connections still open and
-- exits 0; an assertion that fails in a callback ends it non-zero.
local websockets = require 'kite.websockets'
local docroot, cert, key, mode = arg[1], arg[2], arg[3], arg[4]
if cert == '' then cert, key = nil, nil end
local fds, nfds = {}, 0

local paused = {}          -- flow websockets paused by "pause"
local rx_while_paused = 0
local flood = 'none'
local closes = {}          -- close codes on_closed saw, in order
local after_close = 'none' -- what a write in on_closed did
local errors = {}          -- errors service() raised (callback errors)
local done = false
local ctx

local function starts(s, p) return s:sub(1, #p) == p end

local protocols = {
  echo = function(ws)
    ws:on_receive(function(ws, data, kind) assert(ws:write(data, kind)) end)
  end,

  -- on_broadcast in the mode the first message asks for.
  bc = function(ws)
    ws:on_receive(function(ws, data)
      if data == 'text' then ws:on_broadcast(websockets.WRITE_TEXT)
      elseif data == 'binary' then ws:on_broadcast(websockets.WRITE_BINARY)
      elseif data == 'func' then
        ws:on_broadcast(function(ws, msg) ws:write('f:' .. msg, websockets.WRITE_TEXT) end)
      elseif starts(data, 'all:') then
        ws:broadcast(data:sub(5))
        return
      end
      ws:write('ready:' .. data)
    end)
  end,

  flow = function(ws)
    ws:on_receive(function(ws, data)
      if data == 'pause' then
        assert(ws:rx_flow_control(false))
        paused[#paused + 1] = ws
        ws:write('paused')
      else
        if #paused > 0 then rx_while_paused = rx_while_paused + 1 end
        ws:write('got:' .. data)
      end
    end)
  end,

  -- "close CODE REASON", "queue-close" (two messages, then close), and a
  -- write after on_closed; "flood" fills the send queue.
  closer = function(ws)
    ws:on_closed(function(ws, code)
      closes[#closes + 1] = code
      local ok, err = pcall(ws.write, ws, 'late')
      after_close = ok and 'wrote' or tostring(err)
    end)
    ws:on_receive(function(ws, data)
      local code, reason = data:match('^close (%d+) ?(.*)$')
      if code then
        ws:close(tonumber(code), reason)
        local ok, err = pcall(ws.write, ws, 'x')
        assert(not ok and err:match('closing'), 'write after close() must raise')
      elseif data == 'queue-close' then
        ws:write('one'); ws:write('two'); ws:close()
      elseif data == 'flood' then
        local n, msg = 0, string.rep('z', 65536)
        while true do
          local r, err = ws:write(msg)
          if not r then flood = n .. ' ' .. err; break end
          n = n + 1
        end
        ws:write('too much') -- refused too, and no error
      elseif data == 'peer' then
        local name, ip = ws:get_peer_addresses()
        ws:write(name .. ' ' .. ip .. ' ' .. ws:get_socket_fd() .. ' ' ..
                 ws:remaining_packet_payload())
      end
    end)
  end,

  ctl = function(ws)
    ws:on_receive(function(ws, data)
      local proto, msg = data:match('^broadcast (%S+) (.*)$')
      if proto then
        ws:write(tostring(ctx:broadcast(proto, msg)))
      elseif data == 'resume' then
        local n = rx_while_paused
        for _, p in ipairs(paused) do p:rx_flow_control(true) end
        paused = {}
        ws:write(tostring(n))
      elseif data == 'flood?' then ws:write(flood)
      elseif data == 'closes?' then ws:write(table.concat(closes, ','))
      elseif data == 'after-close?' then ws:write(after_close)
      elseif data == 'errors?' then ws:write(table.concat(errors, '\n'))
      elseif data == 'quit' then done = true
      end
    end)
  end,
}

ctx = websockets.context{
  interf = '127.0.0.1',
  protocols = protocols,
  ssl_cert_path = cert,
  ssl_private_key_path = key,
  max_queue = 2 * 1024 * 1024,
  on_add_fd = mode == 'extpoll' and function(fd, events)
    assert(not fds[fd], 'an fd added twice'); fds[fd] = events; nfds = nfds + 1
  end or nil,
  on_change_fd = mode == 'extpoll' and function(fd, events)
    assert(fds[fd], 'a change for an fd not added'); fds[fd] = events
  end or nil,
  on_del_fd = mode == 'extpoll' and function(fd)
    assert(fds[fd], 'an fd deleted that was not added'); fds[fd] = nil; nfds = nfds - 1
  end or nil,
  on_http = function(ws, uri)
    if uri == '/' then
      assert(ws:serve_http_file(docroot .. '/index.html', 'text/html'))
    elseif uri == '/big.bin' then
      assert(ws:serve_http_file(docroot .. '/big.bin', 'application/octet-stream'))
    elseif uri == '/missing' then
      local ok, err = ws:serve_http_file(docroot .. '/no-such-file', 'text/plain')
      assert(ok == nil and err:match('No such file'))
    elseif uri == '/twice' then
      assert(ws:serve_http_file(docroot .. '/index.html', 'text/html'))
      assert(not pcall(ws.serve_http_file, ws, docroot .. '/index.html', 'text/html'))
    elseif uri == '/error' then
      error('on_http failed on purpose')
    end -- anything else: unanswered, so 404
  end,
}
print('PORT', ctx:port())
io.stdout:flush()

local deadline = os.time() + 50
while not done and os.time() < deadline do
  local ok, err = pcall(ctx.service, ctx, 50)
  if not ok then errors[#errors + 1] = tostring(err):match('[^\n]*') end
end
assert(done, 'the ctl protocol never said quit')
ctx:destroy()
assert(not pcall(ctx.service, ctx, 0), 'a destroyed context raises')
assert(nfds == 0, 'every fd added was deleted')
print('DONE')
