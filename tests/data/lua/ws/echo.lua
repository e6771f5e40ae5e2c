-- A Lua websocket: echo, plus a few commands. One environment per
-- script per thread: `clients` counts the clients of this thread.
clients = 0

function open(arg)
  clients = clients + 1
  return arg.request_info.query_string ~= "reject"
end

function ready(arg)
  mg.write(arg.client, "ready")
  return true
end

function data(arg)
  local d = arg.data
  if d == "bye" then
    mg.write(arg.client, "bye!")
    return false
  elseif d == "error" then
    error("ws boom")
  elseif d == "loop" then
    while true do end
  elseif d == "count" then
    mg.write(arg.client, tostring(clients))
  elseif d == "all" then
    mg.write("to all")
  elseif d == "big" then
    arg.client:write(string.rep("z", 3 * 1024 * 1024))
  else
    arg.client:write(arg.binary and "binary" or "text", d)
  end
  return true
end

function close(arg)
  clients = clients - 1
end
