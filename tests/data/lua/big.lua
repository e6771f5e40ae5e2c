-- 8 MiB in 64 KiB writes: far more than the conn's output cap, so mg.write waits.
local chunk = string.rep("0123456789abcdef", 4096)
for i = 1, 128 do mg.write(chunk) end
