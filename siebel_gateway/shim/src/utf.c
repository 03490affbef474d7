/* utf.c -- UTF-8 <-> UTF-16 conversion with replacement of invalid input. */
#include "utf.h"

#include <stdlib.h>

#define REPLACEMENT 0xFFFDu

size_t sgw_put_utf8(char* out, uint32_t cp) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

char* sgw_utf16_to_utf8(const uint16_t* s) {
    size_t n = 0, i, o = 0;
    char* out;
    if (s)
        while (s[n]) n++;
    out = malloc(n * 3 + 1); /* a unit never needs more than 3 bytes; a pair needs 4 for 2 */
    if (!out) return NULL;
    for (i = 0; i < n; i++) {
        uint32_t u = s[i];
        if (u >= 0xD800 && u <= 0xDBFF && i + 1 < n && s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF) {
            u = 0x10000 + ((u - 0xD800) << 10) + (s[i + 1] - 0xDC00u);
            i++;
        } else if (u >= 0xD800 && u <= 0xDFFF) {
            u = REPLACEMENT;
        }
        o += sgw_put_utf8(out + o, u);
    }
    out[o] = '\0';
    return out;
}

/* Length of the sequence a lead byte starts and the range its second byte must be in (which
 * excludes overlong forms, surrogates and values past U+10FFFF); 0 for a bad lead. */
static int lead_info(unsigned char c, uint32_t* cp, unsigned char* lo, unsigned char* hi) {
    *lo = 0x80;
    *hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) { *cp = c & 0x1Fu; return 2; }
    if (c >= 0xE0 && c <= 0xEF) {
        *cp = c & 0x0Fu;
        if (c == 0xE0) *lo = 0xA0;
        if (c == 0xED) *hi = 0x9F;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        *cp = c & 0x07u;
        if (c == 0xF0) *lo = 0x90;
        if (c == 0xF4) *hi = 0x8F;
        return 4;
    }
    return 0;
}

uint16_t* sgw_utf8_to_utf16(const char* str, size_t len) {
    const unsigned char* s = (const unsigned char*)str;
    size_t i = 0, o = 0;
    uint16_t* out = malloc((len + 1) * sizeof *out); /* never more units than bytes */
    if (!out) return NULL;
    while (i < len) {
        unsigned char c = s[i];
        uint32_t cp;
        unsigned char lo, hi;
        int need, k;
        if (c < 0x80) {
            out[o++] = c;
            i++;
            continue;
        }
        need = lead_info(c, &cp, &lo, &hi);
        if (need == 0) {
            out[o++] = REPLACEMENT;
            i++;
            continue;
        }
        for (k = 1; k < need; k++) {
            unsigned char b = i + (size_t)k < len ? s[i + (size_t)k] : 0;
            if (k == 1 ? (b < lo || b > hi) : (b & 0xC0) != 0x80) break;
            cp = (cp << 6) | (b & 0x3Fu);
        }
        if (k < need) { /* the maximal valid prefix becomes one U+FFFD */
            out[o++] = REPLACEMENT;
            i += (size_t)k;
            continue;
        }
        i += (size_t)need;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            out[o++] = (uint16_t)(0xD800 + (cp >> 10));
            out[o++] = (uint16_t)(0xDC00 + (cp & 0x3FF));
        } else {
            out[o++] = (uint16_t)cp;
        }
    }
    out[o] = 0;
    return out;
}
