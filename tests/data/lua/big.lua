-- n (default 128) writes of 64 KiB: far more than the conn's output cap,
-- so mg.write waits for the client.
local n = tonumber(mg.get_var(mg.request_info.query_string or "", "n")) or 128
local chunk = string.rep("0123456789abcdef", 4096)
for i = 1, n do mg.write(chunk) end
