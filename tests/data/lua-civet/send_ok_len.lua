mg.send_http_ok("application/json", 11)
mg.write('{"a": true}')
