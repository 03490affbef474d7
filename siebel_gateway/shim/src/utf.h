/* utf.h -- UTF-8 <-> UTF-16 (ISC_CHAR) conversion; never relies on wchar_t. */
#ifndef SGW_UTF_H
#define SGW_UTF_H

#include <stddef.h>
#include <stdint.h>

/* UTF-16 (NUL-terminated; NULL reads as "") to newly allocated UTF-8.  Unpaired surrogates
 * become U+FFFD.  NULL only when memory runs out. */
char* sgw_utf16_to_utf8(const uint16_t* s);
/* UTF-8 of len bytes to newly allocated NUL-terminated UTF-16.  Invalid sequences (stray
 * continuation bytes, overlong forms, encoded surrogates, values past U+10FFFF, truncated
 * sequences) become U+FFFD.  NULL only when memory runs out. */
uint16_t* sgw_utf8_to_utf16(const char* s, size_t len);
/* Appends code point cp as UTF-8 to out (at least 4 bytes free); returns bytes written. */
size_t sgw_put_utf8(char* out, uint32_t cp);

#endif
