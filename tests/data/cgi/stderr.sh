#!/bin/sh
echo "a line for the error log" >&2
printf 'Content-Type: text/plain\n\nok\n'
