mg.write("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n")
local ri = mg.request_info
for _, k in ipairs({"content_type", "uri_raw", "request_link", "path_info", "uri"}) do
  mg.write(k, "=", tostring(ri[k]), "\n")
end
