mg.write("partial output\n")
mg.sleep(10)
error("failed after the head")
