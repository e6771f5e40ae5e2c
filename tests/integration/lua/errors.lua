-- lua-kite's error cases and object lifetimes, without clients; prints
-- TAP (test_lua_kite.py relays it) and exits non-zero on a failure.
local websockets = require 'kite.websockets'
local n, failed = 0, 0

local function ok(cond, name, diag)
  n = n + 1
  print((cond and 'ok ' or 'not ok ') .. n .. ' - ' .. name)
  if not cond then
    failed = failed + 1
    if diag then print('# ' .. tostring(diag):gsub('\n', '\n# ')) end
  end
end

local function raises(pattern, name, f, ...)
  local r, err = pcall(f, ...)
  ok(not r and tostring(err):find(pattern, 1, true), name, err)
end

local function noop() end
local base = {interf = '127.0.0.1', protocols = {p = noop}}
local function with(extra)
  local t = {}
  for k, v in pairs(base) do t[k] = v end
  for k, v in pairs(extra) do t[k] = v end
  return t
end

-- Bad configuration tables.
raises('table expected', 'context() needs a table', websockets.context, 'x')
raises('protocols must be a table', 'no protocols', websockets.context, {port = 0})
raises('at least one protocol', 'an empty protocols table',
       websockets.context, {protocols = {}})
raises('protocols[p] must be a function', 'a protocol that is not a function',
       websockets.context, {protocols = {p = 'nope'}})
raises('must be a function(ws) under a name', 'a protocol without a name',
       websockets.context, {protocols = {noop}})
raises('on_http must be a function', 'on_http not a function',
       websockets.context, with{on_http = 42})
raises('port 70000 out of range', 'a port out of range', websockets.context, with{port = 70000})
raises('neither an address nor an interface', 'an unknown interface',
       websockets.context, with{interf = 'no-such-if0'})
raises('go together', 'a certificate without its key',
       websockets.context, with{ssl_cert_path = '/nonexistent.crt'})
raises('cannot listen', 'a certificate that cannot be read',
       websockets.context, with{ssl_cert_path = '/nonexistent.crt',
                                ssl_private_key_path = '/nonexistent.key'})

-- Port in use: the reason is in the error.
local a = websockets.context(with{})
local port = a:port()
ok(port > 0, 'an ephemeral port: ' .. port)
raises('address already in use', 'the same port again: "address already in use"',
       websockets.context, with{port = port})

-- An interface name is resolved to its address.
local lo = websockets.context{interf = 'lo', protocols = {p = noop}}
ok(lo:port() > 0, "interf = 'lo' listens")
lo:destroy()

-- Methods of the context.
ok(type(a:canonical_hostname()) == 'string' and #a:canonical_hostname() > 0,
   'canonical_hostname() is a name')
raises('fork_service_loop() is not supported', 'fork_service_loop() explains why not',
       a.fork_service_loop, a)
raises('needs on_add_fd', 'service_fd() on a context without on_add_fd', a.service_fd, a, 3, 1)
raises('needs on_add_fd', 'next_timeout() on a context without on_add_fd', a.next_timeout, a)
raises("no protocol named 'q'", 'broadcast() to an unknown protocol', a.broadcast, a, 'q', 'x')
ok(a:broadcast('p', 'x') == 0, 'broadcast() with nobody connected reaches 0')
ok(a:service(0) == 0, 'service(0) returns at once')
a:destroy()
a:destroy()
ok(true, 'destroy() twice is harmless')
raises('context is destroyed', 'a destroyed context raises', a.service, a, 0)
ok(tostring(a):find('destroyed'), 'tostring says destroyed')

-- Garbage collection destroys the context: its port is free again.
do
  local g = websockets.context(with{})
  port = g:port()
end
collectgarbage()
collectgarbage()
local again = websockets.context(with{port = port})
ok(again:port() == port, 'after collection the port can be bound again')
again:destroy()

-- A to-be-closed variable destroys it at the end of its scope.
do
  local c <close> = websockets.context(with{})
  port = c:port()
end
again = websockets.context(with{port = port})
ok(again:port() == port, 'a <close> context is destroyed when its scope ends')
again:destroy()

-- A context whose callbacks close over it is still collected (no cycle
-- through the registry).
do
  local c
  c = websockets.context(with{on_http = function() return c end,
                             protocols = {p = function() return c end}})
  port = c:port()
end
collectgarbage()
collectgarbage()
again = websockets.context(with{port = port})
ok(again:port() == port, 'a context referenced by its own callbacks is collected too')
again:destroy()

-- External poll: fds come and go through the callbacks.
local fds, added, deleted = {}, 0, 0
local x = websockets.context(with{
  on_add_fd = function(fd, events) fds[fd] = events; added = added + 1 end,
  on_del_fd = function(fd) fds[fd] = nil; deleted = deleted + 1 end,
})
ok(added == 2, 'on_add_fd for the eventfd and the listener (' .. added .. ')')
ok(x:next_timeout() >= -1, 'next_timeout() is a number: ' .. x:next_timeout())
ok(x:service(0) == 0, 'service(0) polls the fds of an external-loop context itself')
local some
for fd in pairs(fds) do some = fd end
ok(x:service_fd(some, 'r') == true, "service_fd(fd, 'r') on kite's fd: true")
ok(x:service_fd(0, websockets.POLLIN) == false, 'service_fd() on a foreign fd: false')
raises('at least one revent', 'service_fd() needs revents', x.service_fd, x, some)
x:service_pending()
x:destroy()
ok(deleted == 2 and next(fds) == nil, 'destroy(): on_del_fd for each of them')

-- An error in on_add_fd fails the creation with it.
raises('add_fd refused', 'an error raised by on_add_fd is the creation error',
       websockets.context, with{on_add_fd = function() error('add_fd refused') end})

-- gid/uid: the ones we have already (dropping to them succeeds).
local ids = io.popen('id -g; id -u'):read('a')
local gid, uid = ids:match('(%d+)%s+(%d+)')
local d = websockets.context(with{gid = tonumber(gid), uid = tonumber(uid), options = 0})
ok(d:port() > 0, 'gid and uid applied')
d:destroy()

-- 1000 create/destroy cycles: half destroyed, half collected.
local t0 = os.clock()
for i = 1, 1000 do
  local c = websockets.context(with{on_http = noop,
                                   on_add_fd = (i % 4 == 0) and noop or nil,
                                   on_del_fd = (i % 4 == 0) and noop or nil})
  if i % 2 == 0 then c:destroy() end
  if i % 50 == 0 then collectgarbage() end
end
collectgarbage()
ok(true, string.format('1000 create/destroy cycles (%.2f s CPU)', os.clock() - t0))

print('1..' .. n)
-- Run from tests/embed/test-lua-module.c: the verdict is returned.
if KITE_EMBED then return failed == 0 end
os.exit(failed == 0 and 0 or 1, true)
