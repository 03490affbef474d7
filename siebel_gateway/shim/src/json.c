/* json.c -- a small, strict JSON parser (nesting limited) and a text builder. */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf.h"

#define MAX_DEPTH 32

typedef struct {
    const char* p;
    const char* end;
} cursor;

static void skip_ws(cursor* c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n'))
        c->p++;
}

static int hex4(const char* p, uint32_t* out) {
    uint32_t v = 0;
    int i;
    for (i = 0; i < 4; i++) {
        char ch = p[i];
        v <<= 4;
        if (ch >= '0' && ch <= '9') v |= (uint32_t)(ch - '0');
        else if (ch >= 'a' && ch <= 'f') v |= (uint32_t)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F') v |= (uint32_t)(ch - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

static int parse_string(cursor* c, char** out, size_t* outlen) {
    /* escapes never grow: \uXXXX (6 bytes) -> at most 3 bytes; a pair (12) -> 4 */
    const char* start = ++c->p;
    char* s;
    size_t o = 0;
    while (c->p < c->end && *c->p != '"') {
        if (*c->p == '\\') c->p++;
        c->p++;
    }
    if (c->p >= c->end) return -1;
    s = malloc((size_t)(c->p - start) + 1);
    if (!s) return -1;
    c->p = start;
    while (*c->p != '"') {
        char ch = *c->p++;
        if ((unsigned char)ch < 0x20) { free(s); return -1; }
        if (ch != '\\') { s[o++] = ch; continue; }
        ch = *c->p++;
        switch (ch) {
        case '"': s[o++] = '"'; break;
        case '\\': s[o++] = '\\'; break;
        case '/': s[o++] = '/'; break;
        case 'b': s[o++] = '\b'; break;
        case 'f': s[o++] = '\f'; break;
        case 'n': s[o++] = '\n'; break;
        case 'r': s[o++] = '\r'; break;
        case 't': s[o++] = '\t'; break;
        case 'u': {
            uint32_t u, lo;
            if (c->end - c->p < 4 || hex4(c->p, &u) != 0) { free(s); return -1; }
            c->p += 4;
            if (u >= 0xD800 && u <= 0xDBFF && c->end - c->p >= 6 && c->p[0] == '\\' &&
                c->p[1] == 'u' && hex4(c->p + 2, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                c->p += 6;
            } else if (u >= 0xD800 && u <= 0xDFFF) {
                u = 0xFFFD;
            }
            o += sgw_put_utf8(s + o, u);
            break;
        }
        default: free(s); return -1;
        }
    }
    c->p++;
    s[o] = '\0';
    *out = s;
    *outlen = o;
    return 0;
}

static int parse_value(cursor* c, sgw_json* v, int depth);

static int push_item(sgw_json* v, size_t* cap) {
    if (v->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        sgw_json* items = realloc(v->items, ncap * sizeof *items);
        if (!items) return -1;
        v->items = items;
        if (v->type == SGW_JOBJ) {
            char** keys = realloc(v->keys, ncap * sizeof *keys);
            if (!keys) return -1;
            v->keys = keys;
        }
        *cap = ncap;
    }
    memset(&v->items[v->n], 0, sizeof v->items[v->n]);
    return 0;
}

static int parse_container(cursor* c, sgw_json* v, int depth) {
    char close = *c->p == '[' ? ']' : '}';
    size_t cap = 0;
    v->type = close == ']' ? SGW_JARR : SGW_JOBJ;
    c->p++;
    skip_ws(c);
    if (c->p < c->end && *c->p == close) { c->p++; return 0; }
    for (;;) {
        skip_ws(c);
        if (push_item(v, &cap) != 0) return -1;
        if (v->type == SGW_JOBJ) {
            size_t klen;
            if (c->p >= c->end || *c->p != '"') return -1;
            if (parse_string(c, &v->keys[v->n], &klen) != 0) return -1;
            skip_ws(c);
            if (c->p >= c->end || *c->p != ':') { free(v->keys[v->n]); return -1; }
            c->p++;
        }
        v->n++;
        if (parse_value(c, &v->items[v->n - 1], depth + 1) != 0) return -1;
        skip_ws(c);
        if (c->p < c->end && *c->p == ',') { c->p++; continue; }
        if (c->p < c->end && *c->p == close) { c->p++; return 0; }
        return -1;
    }
}

static int parse_value(cursor* c, sgw_json* v, int depth) {
    skip_ws(c);
    if (c->p >= c->end || depth > MAX_DEPTH) return -1;
    switch (*c->p) {
    case '{': case '[': return parse_container(c, v, depth);
    case '"': v->type = SGW_JSTR; return parse_string(c, &v->str, &v->slen);
    case 't':
        if (c->end - c->p >= 4 && memcmp(c->p, "true", 4) == 0) {
            v->type = SGW_JBOOL; v->boolean = 1; c->p += 4; return 0;
        }
        return -1;
    case 'f':
        if (c->end - c->p >= 5 && memcmp(c->p, "false", 5) == 0) {
            v->type = SGW_JBOOL; v->boolean = 0; c->p += 5; return 0;
        }
        return -1;
    case 'n':
        if (c->end - c->p >= 4 && memcmp(c->p, "null", 4) == 0) {
            v->type = SGW_JNULL; c->p += 4; return 0;
        }
        return -1;
    default: {
        char tmp[64];
        size_t n = 0;
        char* endp;
        while (c->p + n < c->end && n < sizeof tmp - 1 &&
               strchr("+-0123456789.eE", c->p[n]) != NULL) {
            tmp[n] = c->p[n];
            n++;
        }
        if (n == 0) return -1;
        tmp[n] = '\0';
        v->type = SGW_JNUM;
        v->num = strtod(tmp, &endp);
        if (*endp != '\0') return -1;
        c->p += n;
        return 0;
    }
    }
}

static void free_value(sgw_json* v) {
    size_t i;
    for (i = 0; i < v->n; i++) {
        free_value(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
}

sgw_json* sgw_json_parse(const char* text, size_t len) {
    cursor c;
    sgw_json* v = calloc(1, sizeof *v);
    if (!v) return NULL;
    c.p = text;
    c.end = text + len;
    if (parse_value(&c, v, 0) != 0) { sgw_json_free(v); return NULL; }
    skip_ws(&c);
    if (c.p != c.end) { sgw_json_free(v); return NULL; }
    return v;
}

void sgw_json_free(sgw_json* v) {
    if (!v) return;
    free_value(v);
    free(v);
}

const sgw_json* sgw_json_get(const sgw_json* obj, const char* key) {
    size_t i;
    if (!obj || obj->type != SGW_JOBJ) return NULL;
    for (i = 0; i < obj->n; i++)
        if (strcmp(obj->keys[i], key) == 0) return &obj->items[i];
    return NULL;
}

const char* sgw_json_str(const sgw_json* obj, const char* key) {
    const sgw_json* v = sgw_json_get(obj, key);
    return v && v->type == SGW_JSTR ? v->str : NULL;
}

long sgw_json_long(const sgw_json* obj, const char* key, long dflt) {
    const sgw_json* v = sgw_json_get(obj, key);
    return v && v->type == SGW_JNUM ? (long)v->num : dflt;
}

void sgw_buf_init(sgw_buf* b) {
    b->buf = NULL;
    b->len = b->cap = 0;
    b->ok = 1;
}

void sgw_buf_free(sgw_buf* b) {
    free(b->buf);
    sgw_buf_init(b);
}

static void reserve(sgw_buf* b, size_t more) {
    char* nb;
    size_t ncap;
    if (!b->ok || b->len + more + 1 <= b->cap) return;
    ncap = (b->cap ? b->cap * 2 : 256);
    while (ncap < b->len + more + 1) ncap *= 2;
    nb = realloc(b->buf, ncap);
    if (!nb) { b->ok = 0; return; }
    b->buf = nb;
    b->cap = ncap;
}

static void append(sgw_buf* b, const char* s, size_t n) {
    reserve(b, n);
    if (!b->ok) return;
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = '\0';
}

void sgw_buf_raw(sgw_buf* b, const char* s) { append(b, s, strlen(s)); }

void sgw_buf_str(sgw_buf* b, const char* s) {
    const unsigned char* p = (const unsigned char*)(s ? s : "");
    append(b, "\"", 1);
    for (; *p; p++) {
        char esc[8];
        switch (*p) {
        case '"': append(b, "\\\"", 2); break;
        case '\\': append(b, "\\\\", 2); break;
        case '\n': append(b, "\\n", 2); break;
        case '\r': append(b, "\\r", 2); break;
        case '\t': append(b, "\\t", 2); break;
        default:
            if (*p < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", *p);
                append(b, esc, 6);
            } else {
                append(b, (const char*)p, 1);
            }
        }
    }
    append(b, "\"", 1);
}

void sgw_buf_long(sgw_buf* b, long v) {
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%ld", v);
    sgw_buf_raw(b, tmp);
}
