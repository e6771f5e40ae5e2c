mg.write("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n")
mg.write("<")
local which = mg.get_var(mg.request_info.query_string, "f") or "hello.txt"
local ok = mg.send_file_body(mg.document_root .. "/" .. which)
mg.write(">", tostring(ok), "\n")
