-- The echo server on an event loop the Lua program owns: a luv (libuv)
-- loop watches kite's fds with uv.new_poll, told which through
-- on_add_fd / on_change_fd / on_del_fd, hands readiness back with
-- context:service_fd(), and runs kite's timers (keep-alive, close and
-- send timeouts) from a uv timer armed with context:next_timeout().
--   lua5.4 echo-luv.lua [port]     (default 8080; 0 picks a free port)
-- The same loop can watch the program's own sockets, timers and pipes.
local uv = require 'luv'
local websockets = require 'kite.websockets'

local polls = {}   -- fd -> uv_poll_t
local context

-- kite's POLLIN/POLLOUT mask as luv's event string; 'd' (disconnect) is
-- always asked for: kite needs hang-ups even while it reads nothing.
local function luv_events(mask)
  local s = ''
  if mask & websockets.POLLIN ~= 0 then s = s .. 'r' end
  if mask & websockets.POLLOUT ~= 0 then s = s .. 'w' end
  return s .. 'd'
end

local function watch(fd, mask)
  local poll = polls[fd]
  if not poll then
    poll = uv.new_poll(fd)
    polls[fd] = poll
  end
  poll:start(luv_events(mask), function(err, events)
    -- luv reports events as 'r', 'w', 'rw', ... which service_fd takes
    context:service_fd(fd, err and websockets.POLLERR or events)
  end)
end

context = websockets.context{
  port = tonumber(arg[1]) or 8080,
  on_add_fd = watch,
  on_change_fd = watch,
  on_del_fd = function(fd)
    polls[fd]:close()
    polls[fd] = nil
  end,
  protocols = {
    echo = function(ws)
      ws:on_receive(function(ws, data, kind) ws:write(data, kind) end)
    end
  }
}

-- Before each poll, arm the timer for kite's next deadline (-1: none).
local timer = uv.new_timer()
local prepare = uv.new_prepare()
prepare:start(function()
  local ms = context:next_timeout()
  if ms < 0 then
    timer:stop()
  else
    timer:start(ms, 0, function() context:service_pending() end)
  end
end)

local sigint, sigterm
local function quit()
  context:destroy() -- on_del_fd closes every poll handle
  for _, h in ipairs({timer, prepare, sigint, sigterm}) do h:close() end
  uv.stop()
end
sigint = uv.new_signal()
sigint:start('sigint', quit)
sigterm = uv.new_signal()
sigterm:start('sigterm', quit)

print('listening on port ' .. context:port())
io.stdout:flush()
uv.run()
uv.run() -- let the closed handles finish closing
