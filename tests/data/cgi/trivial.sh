#!/bin/sh
printf 'Content-Type: text/plain\n\nhi\n'
