local ok, err = pcall(require, "outmod")
mg.write("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n")
if ok then
  mg.write("loaded\n")
else
  mg.write("refused: ", tostring(err):match("outside the document root") or tostring(err), "\n")
end
