mg.response.http_headers["X-Bad"] = "a\r\nSet-Cookie: evil=1"
mg.response.send()
