#!/bin/sh
printf 'Status: 201 Created\nX-CGI: yes\nContent-Type: text/plain\n\ncreated\n'
