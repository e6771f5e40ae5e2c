return { name = "deep" }
