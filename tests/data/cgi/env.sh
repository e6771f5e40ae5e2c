#!/bin/sh
# Every variable of the environment, one per line (values have no newlines).
printf 'Content-Type: text/plain\n\n'
env
