-- The same function object on every request while the file is unchanged.
local f = debug.getinfo(1, "f").func
local same = shared.compiled == f
shared.compiled = f
mg.write("same=", tostring(same), " version=1\n")
