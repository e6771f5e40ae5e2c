local which = mg.get_var(mg.request_info.query_string, "f") or "hello.txt"
mg.send_file(mg.document_root .. "/" .. which)
