-- A runaway that catches errors: the budget still ends it.
while true do
  pcall(function() while true do end end)
end
