mg.write("before\n")
os.exit(3)
mg.write("after\n")
