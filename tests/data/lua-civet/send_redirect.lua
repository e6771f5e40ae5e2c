mg.send_http_redirect("/elsewhere.txt", 307)
