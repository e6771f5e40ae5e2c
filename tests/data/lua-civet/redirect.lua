mg.redirect("/hello.txt")
