#!/bin/sh
# 32 MB of output, for a client that does not read.
printf 'Content-Type: application/octet-stream\n\n'
head -c 33554432 /dev/zero
