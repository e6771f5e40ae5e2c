mg.keep_alive(false)
mg.write("no keep-alive\n")
