return require("selfreq")
