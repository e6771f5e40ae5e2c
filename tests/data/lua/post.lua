-- Reads the request body with mg.read in pieces: its size, piece count and MD5.
local parts, n, pieces = {}, 0, 0
while true do
  local s = mg.read()
  if not s then break end
  n = n + #s
  pieces = pieces + 1
  parts[#parts + 1] = s
end
local sum = mg.md5(table.concat(parts))
mg.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")
mg.write(n, " ", sum, " ", pieces > 1 and "pieces" or "one", "\n")
