#!/bin/sh
# A child and the script both sleep; the child's pid goes to the file
# named by the query string, so the test can see that it was killed too.
sleep 300 &
echo $! > "$QUERY_STRING"
sleep 300
