mg.onerror = function(msg)
  mg.write("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n\r\n")
  mg.write("custom: ", msg:match("boom") or "?", "\n")
end
mg.write("this output is dropped")
error("boom")
