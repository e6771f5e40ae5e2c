-- Timers: an interval that cancels itself after three ticks, a timeout
-- given as a string of Lua, and one cancelled before it fires.
function ready(arg)
  local c, n, id = arg.client, 0, nil
  id = mg.set_interval(function()
    n = n + 1
    mg.write(c, "tick " .. n)
    if n == 3 then mg.cancel_timer(id) end
  end, 50)
  mg.set_timeout("mg.write('timeout fired')", 20)
  local never = mg.set_timeout(function() mg.write(c, "never") end, 100)
  mg.cancel_timer(never)
  return true
end

function data(arg)
  mg.write(arg.client, "echo " .. arg.data)
  return true
end
