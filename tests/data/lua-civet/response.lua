local body = "made with mg.response\n"
mg.response.status = 202
mg.response.http_headers["Content-Type"] = "text/plain"
mg.response.http_headers["X-Civet"] = "yes"
mg.response.http_headers["Content-Length"] = tostring(#body)
local ok, code = mg.response.send()
mg.write(body)
