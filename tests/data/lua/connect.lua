-- connect() to this same server: the socket yields, so one thread serves both.
local port = tonumber(mg.get_var(mg.request_info.query_string, "port"))
local sock = connect("127.0.0.1", port)
sock:send("GET /lua/nostatus.lp HTTP/1.0\r\nHost: x\r\n\r\n")
local parts = {}
while true do
  local s = sock:recv()
  if not s then break end
  parts[#parts + 1] = s
end
sock:close()
local reply = table.concat(parts)
mg.write("status=", reply:match("^HTTP/1.%d (%d+)") or "?", "\n")
mg.write("body=", reply:match("\r\n\r\n(.*)$") or "?")
