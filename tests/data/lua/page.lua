-- LibHTTP's test/page.lua, rewritten for kite: a plain Lua script that
-- sends its own head, then prints mg.request_info (nested tables too).
mg.write("HTTP/1.0 200 OK\r\n")
mg.write("Content-Type: text/plain\r\n")
mg.write("\r\n")
mg.write(os.date("%A"), "\n\n")

local function dump(name, t, indent)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  mg.write(indent, name, ":\n")
  for _, k in ipairs(keys) do
    local v = t[k]
    if type(v) == "table" then
      dump(k, v, indent .. "  ")
    else
      mg.write(indent, "  ", k, " = ", tostring(v), "\n")
    end
  end
end

dump("request_info", mg.request_info, "")
