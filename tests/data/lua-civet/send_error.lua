mg.send_http_error(418, "short and stout")
