-- The status line arrives in pieces: kite still reads it as the page's head.
mg.write("HT")
mg.write("TP/1.1 404 Not Found\r\n")
mg.write("X-A: 1\r\n", "Content-Type: text/plain\r\n")
mg.write("\r\ngone")
