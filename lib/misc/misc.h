/*
 * Internal helpers shared by every part of the library: MIME types, HTTP
 * dates, URL path decoding and normalisation, LibHTTP glob patterns.
 * None of them allocate; all are pure functions of their arguments.
 */
#ifndef KITE_MISC_H
#define KITE_MISC_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "kite.h"

/*
 * MIME type for a file name by its extension (case-insensitive). @extra,
 * when given, is searched first (pvo names ".ext" or "ext", values the
 * type). Unknown extensions give "application/octet-stream".
 */
const char *kite__mime_type(const char *name, size_t len, const kite_pvo_t *extra);

/* IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT" into @out (30 bytes incl. NUL); returns 29. */
size_t kite__http_date(time_t t, char *out);

/*
 * Parse an HTTP date: IMF-fixdate, obsolete RFC 850 and asctime forms.
 * Returns 0 and sets *out, or KITE_EINVAL.
 */
int kite__http_date_parse(const char *s, size_t len, time_t *out);

/*
 * Percent-decode a URL path. @out may equal @in (decoding shrinks).
 * '+' is not decoded (it is a space only in queries). Returns the decoded
 * length, or KITE_EINVAL for a bad escape, an encoded or raw NUL, or a
 * control character.
 */
int kite__url_decode_path(const char *in, size_t len, char *out);

/* Percent-decode a query component: like the path, and '+' becomes ' '. */
int kite__url_decode_query(const char *in, size_t len, char *out);

/*
 * Normalise a decoded absolute path in place: collapse "//", drop "."
 * segments, resolve ".." segments. Returns the new length, or KITE_EPERM
 * when ".." would climb above "/", or KITE_EINVAL when @path does not
 * start with '/'. A trailing slash is kept.
 */
int kite__path_normalise(char *path, size_t len);

/*
 * LibHTTP glob: "**" matches anything, "*" anything but '/', "?" any one
 * character but '/', "$" anchors at the end, "|" separates alternatives.
 * A pattern without "$" matches a prefix. Returns the length of @str that
 * matched, or -1.
 */
int kite__pattern_match(const char *pat, size_t plen, const char *str, size_t slen);

/* ASCII case-insensitive compare of @len bytes; 0 when equal. */
int kite__strncasecmp(const char *a, const char *b, size_t len);

#endif
