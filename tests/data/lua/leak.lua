-- Globals are the request's own; `shared` is kept on purpose. So is what
-- a request sets in mg, even through the global mg shared by all.
mg.write("leaked=", tostring(leaked), "\n")
leaked = "set"
shared.n = (shared.n or 0) + 1
mg.write("shared=", shared.n > 0 and "counted" or "no", "\n")
mg.write("mg=", tostring(mg.mine), ",", tostring(mg.viaglobal), "\n")
mg.mine = "set"
getmetatable(_ENV).__index.mg.viaglobal = "set"
mg.write("own=", mg.mine, ",", mg.viaglobal, ",", type(mg.write), "\n")
