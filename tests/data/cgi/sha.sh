#!/bin/sh
# The body from stdin, hashed; the query string: seconds to wait before reading.
[ -n "$QUERY_STRING" ] && sleep "$QUERY_STRING"
h=$(sha256sum | cut -d' ' -f1)
printf 'Content-Type: text/plain\n\n%s %s\n' "$CONTENT_LENGTH" "$h"
