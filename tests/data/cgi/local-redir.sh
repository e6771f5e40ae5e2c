#!/bin/sh
printf 'Location: /cgi-bin/env.sh/after?from=redir\n\n'
