#!/bin/sh
printf 'HTTP/1.1 299 Raw\r\nContent-Type: text/plain\r\nX-NPH: 1\r\n\r\nnph body\n'
