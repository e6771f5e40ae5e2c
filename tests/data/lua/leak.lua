-- Globals are the request's own; `shared` is kept on purpose.
mg.write("leaked=", tostring(leaked), "\n")
leaked = "set"
shared.n = (shared.n or 0) + 1
mg.write("shared=", shared.n > 0 and "counted" or "no", "\n")
