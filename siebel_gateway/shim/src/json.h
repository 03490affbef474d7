/* json.h -- the little JSON the SCS protocol needs: a DOM parser and a text builder. */
#ifndef SGW_JSON_H
#define SGW_JSON_H

#include <stddef.h>
#include <stdint.h>

enum sgw_jtype { SGW_JNULL, SGW_JBOOL, SGW_JNUM, SGW_JSTR, SGW_JARR, SGW_JOBJ };

typedef struct sgw_json {
    enum sgw_jtype type;
    int boolean;
    double num;
    char* str; /* UTF-8, NUL-terminated (JSTR) */
    size_t slen;
    size_t n; /* items of JARR / JOBJ */
    struct sgw_json* items;
    char** keys; /* JOBJ */
} sgw_json;

/* Parses one JSON text (a line); NULL when it is not JSON. */
sgw_json* sgw_json_parse(const char* text, size_t len);
void sgw_json_free(sgw_json* v);
const sgw_json* sgw_json_get(const sgw_json* obj, const char* key);
/* The string member key of obj, or NULL. */
const char* sgw_json_str(const sgw_json* obj, const char* key);
/* The numeric member key of obj, or dflt. */
long sgw_json_long(const sgw_json* obj, const char* key, long dflt);

/* A growing text buffer; ok drops to 0 when memory ran out. */
typedef struct {
    char* buf;
    size_t len, cap;
    int ok;
} sgw_buf;

void sgw_buf_init(sgw_buf* b);
void sgw_buf_free(sgw_buf* b);
void sgw_buf_raw(sgw_buf* b, const char* s);
void sgw_buf_str(sgw_buf* b, const char* utf8); /* a JSON string literal */
void sgw_buf_long(sgw_buf* b, long v);

#endif
