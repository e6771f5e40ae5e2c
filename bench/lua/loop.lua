-- A compute-bound script for the Lua bench: the cost of the instruction
-- budget's count hook (kite-test-server -L bench/lua, then again with -B off).
local s = 0
for i = 1, 10000 do
  s = s + i % 7
end
mg.write(s, "\n")
