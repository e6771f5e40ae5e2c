#!/bin/sh
# No Content-Length: the body goes out chunked; three writes, apart.
printf 'Content-Type: text/plain\n\n'
echo one
sleep 0.05
echo two
sleep 0.05
echo three
