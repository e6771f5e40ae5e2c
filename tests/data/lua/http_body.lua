-- Starts like a status line but is not one: it is body.
mg.write("HTTX is not a status line")
