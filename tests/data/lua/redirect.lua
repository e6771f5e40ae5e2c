mg.redirect("/lua/nostatus.lp")
