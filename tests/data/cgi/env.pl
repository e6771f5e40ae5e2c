#!/usr/bin/perl
# The same from perl: NAME=value lines, sorted.
print "Content-Type: text/plain\r\n\r\n";
print "$_=$ENV{$_}\n" for sort keys %ENV;
