mg.send_http_ok("text/plain", "all fine\n")
