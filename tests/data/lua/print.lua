print("a", 1, true, nil)
mg.print("via mg.print\n")
