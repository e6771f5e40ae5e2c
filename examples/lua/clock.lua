-- The LibHTTP websocket.lua sample, rewritten: a clock that sends the time
-- every second to every client, with a timer re-armed by a string of Lua.
allConnections = {}

function open(tab)
  allConnections[tab.client] = tab
  return true
end

function ready(tab)
  mg.write(tab.client, "text", "Websocket ready")
  senddata()
  if not timer_on then
    timer_on = true
    mg.set_timeout("timer()", 1000)
  end
  return true
end

function data(tab)
  senddata()
  return true
end

function close(tab)
  allConnections[tab.client] = nil
end

function senddata()
  local date = os.date('*t')
  mg.write("text", string.format("%u:%02u:%02u", date.hour, date.min, date.sec))
end

function timer()
  senddata()
  if next(allConnections) then
    mg.set_timeout("timer()", 1000)
  else
    timer_on = false
  end
end
