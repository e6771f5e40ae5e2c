from_inc2 = "set-by-inc2"
mg.write("inc2 ran\n")
