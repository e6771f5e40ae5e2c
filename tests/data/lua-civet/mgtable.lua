mg.write("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n")
local n, names = 0, {}
for k, v in pairs(mg) do
  n = n + 1
  names[#names + 1] = k
end
table.sort(names)
mg.write("count=", n, "\n")
mg.write("names=", table.concat(names, ","), "\n")
mg.write("script_name=", tostring(mg.script_name), "\n")
mg.write("auth_domain=", tostring(mg.auth_domain), "\n")
mg.write("lua_type=", mg.lua_type, "\n")
mg.write("system=", tostring(mg.system), "\n")
