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
 * type, returned as given); an extra name may span dots ("tar.gz"). A
 * leading dot in the last path segment (".htaccess") is no extension.
 * Unknown extensions give "application/octet-stream".
 */
const char *kite__mime_type(const char *name, size_t len, const kite_pvo_t *extra);
/* The same, or NULL when neither @extra nor the table knows the name. */
const char *kite__mime_known(const char *name, size_t len, const kite_pvo_t *extra);

/*
 * IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT" into @out (30 bytes incl.
 * NUL); returns 29. Times outside the years 0000-9999 are clamped to them.
 */
size_t kite__http_date(time_t t, char *out);

/*
 * Parse an HTTP date: IMF-fixdate, obsolete RFC 850 and asctime forms.
 * Exactly @len bytes, no surrounding space. RFC 850 two-digit years 70-99
 * are 19xx, 00-69 are 20xx. The weekday must be a day name but is not
 * checked against the date. Returns 0 and sets *out, or KITE_EINVAL.
 */
int kite__http_date_parse(const char *s, size_t len, time_t *out);

/*
 * Percent-decode a URL path. @out may equal @in (decoding shrinks).
 * '+' is not decoded (it is a space only in queries); "%2F" becomes '/',
 * so normalise after decoding. Returns the decoded length, or KITE_EINVAL
 * for a bad escape, an encoded or raw NUL, a control character (raw or
 * encoded, 0x01-0x1f and 0x7f), or @len > INT_MAX.
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
/* Whether the resolved path @real is @root (a realpath too) or below it;
 * no @root: anywhere, no @real: nowhere. */
int kite__path_within(const char *real, const char *root, size_t root_len);

/*
 * LibHTTP glob: "**" matches anything, "*" anything but '/', "?" any one
 * character but '/', "$" anchors at the end, "|" separates alternatives.
 * Letters match ignoring ASCII case. A pattern without "$" matches a
 * prefix, stars taking as much as they can. The first alternative that
 * matches wins, even with length 0. Returns the length of @str that
 * matched, or -1. Runs in O(@plen * @slen) time; an alternative longer
 * than 512 bytes never matches.
 */
int kite__pattern_match(const char *pat, size_t plen, const char *str, size_t slen);

/*
 * ASCII case-insensitive compare of exactly @len bytes (a NUL is just a
 * byte); 0 when equal, else <0 or >0 as the first difference.
 */
int kite__strncasecmp(const char *a, const char *b, size_t len);
/* Where a header block in h[0..len) ends (CGI output, a Lua page's own
 * head): its length without the empty line returned, with it in *hl;
 * -1 when it has not ended yet. Lines end in LF or CRLF. */
long kite__head_end(const char *h, size_t len, size_t *hl);

/* 1 when built with AddressSanitizer: caches of freed memory then keep
 * nothing, so that ASan sees every block come and go. */
#if defined(__SANITIZE_ADDRESS__)
#define KITE__ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KITE__ASAN 1
#endif
#endif
#ifndef KITE__ASAN
#define KITE__ASAN 0
#endif

/* Write @v in decimal at @p (at most 20 bytes, no NUL); returns the end. */
char *kite__put_u64(char *p, uint64_t v);
/* The same in lower-case hexadecimal (at most 16 bytes): chunk sizes. */
char *kite__put_hex(char *p, uint64_t v);

/*
 * Send this thread's error lines to @buf (the first one is kept) instead
 * of the log, until called with @len 0.
 */
void kite__log_capture(char *buf, size_t len);

#endif
