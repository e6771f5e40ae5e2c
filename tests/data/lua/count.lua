-- A tight loop of ?n= turns: past the mount's instruction budget it ends
-- with a 500; with no budget (-B off) it runs to its end.
local n = tonumber(mg.get_var(mg.request_info.query_string or "", "n")) or 0
local s = 0
for _ = 1, n do
  s = s + 1
end
mg.write(s, "\n")
