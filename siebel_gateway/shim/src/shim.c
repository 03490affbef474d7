/* shim.c -- the SCAPI exports: each forwards as its SCS-protocol request and returns the
 * gateway's code; the registry of drivers and services (the handles Siebel holds stay the
 * shim's own, mapped to the gateway's strings, so a reconnect never changes them). */
#include "shim.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls.h"
#include "utf.h"

typedef char sgw_isc_char_is_two_bytes[sizeof(ISC_CHAR) == 2 ? 1 : -1];

sgw_mutex g_lock;
sgw_cond g_cond;
static sgw_driver* g_drivers;
static long g_next_service_id;
static FILE* g_log;
static sgw_mutex g_log_lock;

#ifdef _WIN32
static INIT_ONCE g_once = INIT_ONCE_STATIC_INIT;
static BOOL CALLBACK init_once(PINIT_ONCE o, PVOID p, PVOID* c) {
    const char* path = getenv("SIEBELGW_SHIM_LOG");
    (void)o; (void)p; (void)c;
    if (path && *path) g_log = fopen(path, "a");
    sgw_mutex_init(&g_lock);
    sgw_mutex_init(&g_log_lock);
    sgw_cond_init(&g_cond);
    sgw_net_init();
    return TRUE;
}
static void global_init(void) { InitOnceExecuteOnce(&g_once, init_once, NULL, NULL); }
#else
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static void init_once(void) {
    const char* path = getenv("SIEBELGW_SHIM_LOG");
    sgw_mutex_init(&g_lock);
    sgw_mutex_init(&g_log_lock);
    sgw_cond_init(&g_cond);
    if (path && *path) g_log = fopen(path, "a");
}
static void global_init(void) { pthread_once(&g_once, init_once); }
#endif

void sgw_log(const char* fmt, ...) {
    va_list ap;
    if (!g_log) return;
    sgw_lock(&g_log_lock);
    fprintf(g_log, "siebelgw_shim: ");
    va_start(ap, fmt);
    vfprintf(g_log, fmt, ap);
    va_end(ap);
    fputc('\n', g_log);
    fflush(g_log);
    sgw_unlock(&g_log_lock);
}

/* ---- UTF-16 arguments to JSON ---- */

static void put_str(sgw_buf* b, const char* key, const ISC_CHAR* s, int first) {
    char* u = sgw_utf16_to_utf8((const uint16_t*)s);
    if (!first) sgw_buf_raw(b, ",");
    sgw_buf_str(b, key);
    sgw_buf_raw(b, ":");
    sgw_buf_str(b, u ? u : "");
    if (!u) b->ok = 0;
    free(u);
}

static void put_kv(sgw_buf* b, const char* key, const struct ISC_KVParamList* kv) {
    long i;
    sgw_buf_raw(b, ",");
    sgw_buf_str(b, key);
    sgw_buf_raw(b, ":[");
    for (i = 0; kv && kv->dataItems && i < kv->len; i++) {
        char* k = sgw_utf16_to_utf8((const uint16_t*)kv->dataItems[i].paramName);
        char* v = sgw_utf16_to_utf8((const uint16_t*)kv->dataItems[i].paramValue);
        if (i) sgw_buf_raw(b, ",");
        sgw_buf_raw(b, "[");
        sgw_buf_str(b, k ? k : "");
        sgw_buf_raw(b, ",");
        sgw_buf_str(b, v ? v : "");
        sgw_buf_raw(b, "]");
        if (!k || !v) b->ok = 0;
        free(k);
        free(v);
    }
    sgw_buf_raw(b, "]");
}

static void put_kv_utf8(sgw_buf* b, const char* key, const sgw_kv* kv, size_t n) {
    size_t i;
    sgw_buf_raw(b, ",");
    sgw_buf_str(b, key);
    sgw_buf_raw(b, ":[");
    for (i = 0; i < n; i++) {
        if (i) sgw_buf_raw(b, ",");
        sgw_buf_raw(b, "[");
        sgw_buf_str(b, kv[i].k);
        sgw_buf_raw(b, ",");
        sgw_buf_str(b, kv[i].v);
        sgw_buf_raw(b, "]");
    }
    sgw_buf_raw(b, "]");
}

static sgw_kv* copy_kv(const struct ISC_KVParamList* kv, size_t* n) {
    long i;
    sgw_kv* out;
    *n = 0;
    out = calloc(kv && kv->len > 0 ? (size_t)kv->len : 1, sizeof *out);
    if (!out) return NULL;
    for (i = 0; kv && kv->dataItems && i < kv->len; i++) {
        out[i].k = sgw_utf16_to_utf8((const uint16_t*)kv->dataItems[i].paramName);
        out[i].v = sgw_utf16_to_utf8((const uint16_t*)kv->dataItems[i].paramValue);
        *n = (size_t)i + 1;
        if (!out[i].k || !out[i].v) return out;
    }
    return out;
}

static void free_kv(sgw_kv* kv, size_t n) {
    size_t i;
    for (i = 0; kv && i < n; i++) {
        free(kv[i].k);
        free(kv[i].v);
    }
    free(kv);
}

/* ---- driver parameters ---- */

static const char* param(const sgw_driver* d, const char* name) {
    size_t i;
    for (i = 0; i < d->nparams; i++) {
        const char* k = d->params[i].k;
        if (!k) continue;
        if (strncmp(k, "Driver:", 7) == 0) k += 7;
        if (strlen(k) == strlen(name)) {
            size_t j;
            for (j = 0; k[j] && tolower((unsigned char)k[j]) == tolower((unsigned char)name[j]);
                 j++) {}
            if (!k[j]) return d->params[i].v;
        }
    }
    return NULL;
}

static int parse_ms(const sgw_driver* d, const char* name, int dflt, int* out) {
    const char* v = param(d, name);
    char* end;
    long n;
    if (!v || !*v) { *out = dflt; return 0; }
    n = strtol(v, &end, 10);
    if (*end || n < 1 || n > 600000) {
        sgw_log("driver parameter %s is '%s'; use milliseconds between 1 and 600000", name, v);
        return -1;
    }
    *out = (int)n;
    return 0;
}

/* The next word of *p separated by commas, semicolons or white space (NULL at the end). */
static char* next_token(char** p) {
    char* start = *p;
    while (*start && strchr(", ;\t", *start)) start++;
    if (!*start) return NULL;
    *p = start;
    while (**p && !strchr(", ;\t", **p)) (*p)++;
    if (**p) *(*p)++ = '\0';
    return start;
}

/* GatewayAddress: host:port entries separated by commas, semicolons or spaces
 * ([v6-address]:port for IPv6). */
static int parse_addresses(sgw_driver* d) {
    const char* v = param(d, "GatewayAddress");
    char* copy = strdup(v && *v ? v : "127.0.0.1:7788");
    char* tok;
    char* next = copy;
    size_t cap = 0;
    if (!copy) return -1;
    while ((tok = next_token(&next)) != NULL) {
        char* colon = strrchr(tok, ':');
        char* host = tok;
        char* end;
        long port;
        if (!colon || colon == tok) goto bad;
        *colon = '\0';
        port = strtol(colon + 1, &end, 10);
        if (*end || port < 1 || port > 65535) goto bad;
        if (host[0] == '[' && colon[-1] == ']') { host++; colon[-1] = '\0'; }
        if (d->naddr == cap) {
            cap = cap ? cap * 2 : 4;
            d->hosts = realloc(d->hosts, cap * sizeof *d->hosts);
            d->ports = realloc(d->ports, cap * sizeof *d->ports);
            if (!d->hosts || !d->ports) { free(copy); return -1; }
        }
        d->hosts[d->naddr] = strdup(host);
        d->ports[d->naddr] = strdup(colon + 1);
        d->naddr++;
        continue;
    bad:
        sgw_log("driver parameter GatewayAddress has '%s'; use host:port, separated by commas",
                tok);
        free(copy);
        return -1;
    }
    free(copy);
    if (d->naddr == 0) sgw_log("driver parameter GatewayAddress names no address");
    return d->naddr ? 0 : -1;
}

static int truthy(const char* v) {
    return v && (strcmp(v, "TRUE") == 0 || strcmp(v, "true") == 0 || strcmp(v, "Y") == 0 ||
                 strcmp(v, "1") == 0);
}

/* ---- the registry ---- */

static int driver_live(const sgw_driver* d) {
    const sgw_driver* x;
    for (x = g_drivers; x; x = x->next)
        if (x == d) return 1;
    return 0;
}

static void unlink_driver(sgw_driver* d) {
    sgw_driver** pp;
    sgw_lock(&g_lock);
    for (pp = &g_drivers; *pp; pp = &(*pp)->next)
        if (*pp == d) { *pp = d->next; break; }
    sgw_unlock(&g_lock);
}

static sgw_service* service_live(const void* h, sgw_driver** drv) {
    sgw_driver* d;
    sgw_service* s;
    for (d = g_drivers; d; d = d->next)
        for (s = d->services; s; s = s->next)
            if ((const void*)s == h) { *drv = d; return s; }
    return NULL;
}

void sgw_service_free(sgw_service* s) {
    size_t i;
    free(s->gw);
    free(s->connect);
    free_kv(s->params, s->nparams);
    for (i = 0; i < s->ncmds; i++) {
        free(s->cmd_names[i]);
        free(s->cmd_descs[i]);
    }
    free(s->cmd_names);
    free(s->cmd_descs);
    free(s->cmd_status);
    free(s);
}

void sgw_driver_free(sgw_driver* d) {
    size_t i;
    while (d->services) {
        sgw_service* s = d->services;
        d->services = s->next;
        sgw_service_free(s);
    }
    for (i = 0; i < d->naddr; i++) {
        free(d->hosts[i]);
        free(d->ports[i]);
    }
    free(d->hosts);
    free(d->ports);
    free(d->media);
    free(d->lang);
    free(d->connect);
    free_kv(d->params, d->nparams);
    free(d->gw);
    free(d->session);
    free(d->rbuf);
    sgw_mutex_destroy(&d->lock);
    sgw_cond_destroy(&d->cond);
    sgw_mutex_destroy(&d->wlock);
    sgw_mutex_destroy(&d->tls_lock);
    free(d->ca_file);
    sgw_mutex_destroy(&d->qlock);
    sgw_cond_destroy(&d->qcond);
    free(d);
}

/* ---- requests that create handles (also used when resuming) ---- */

static char* create_params(const sgw_driver* d) {
    sgw_buf b;
    sgw_buf_init(&b);
    sgw_buf_raw(&b, "{\"mediaType\":");
    sgw_buf_str(&b, d->media);
    sgw_buf_raw(&b, ",\"language\":");
    sgw_buf_str(&b, d->lang);
    sgw_buf_raw(&b, ",\"connectString\":");
    sgw_buf_str(&b, d->connect);
    put_kv_utf8(&b, "params", d->params, d->nparams);
    sgw_buf_raw(&b, "}");
    return b.ok ? b.buf : (sgw_buf_free(&b), NULL);
}

static char* service_params(const char* gw_driver, const sgw_service* s) {
    sgw_buf b;
    sgw_buf_init(&b);
    sgw_buf_raw(&b, "{\"driver\":");
    sgw_buf_str(&b, gw_driver);
    sgw_buf_raw(&b, ",\"connectString\":");
    sgw_buf_str(&b, s->connect);
    put_kv_utf8(&b, "params", s->params, s->nparams);
    sgw_buf_raw(&b, "}");
    return b.ok ? b.buf : (sgw_buf_free(&b), NULL);
}

/* CreateISCDriverInstance on the gateway; sets d->gw and d->session. */
ISC_RESULT sgw_create_driver(sgw_driver* d, request_fn req) {
    char* params = create_params(d);
    sgw_json* reply = NULL;
    ISC_RESULT code;
    const char* gw;
    const char* session;
    if (!params) return SC_EC_OUT_OF_MEMORY;
    code = req(d, "CreateISCDriverInstance", params, &reply, NULL);
    free(params);
    if (code != SC_EC_OK) { sgw_json_free(reply); return code; }
    gw = sgw_json_str(sgw_result(reply), "driver");
    session = sgw_json_str(sgw_result(reply), "session");
    if (!gw) { sgw_json_free(reply); return SC_EC_DRIVER_CREATION_ERR; }
    sgw_lock(&g_lock);
    free(d->gw);
    free(d->session);
    d->gw = strdup(gw);
    d->session = session ? strdup(session) : NULL;
    sgw_unlock(&g_lock);
    sgw_json_free(reply);
    return SC_EC_OK;
}

/* RequestService on the gateway for s; sets s->gw.  gw_driver is a copy of d->gw. */
ISC_RESULT sgw_create_service(sgw_driver* d, sgw_service* s, const char* gw_driver,
                                 request_fn req) {
    char* params = service_params(gw_driver, s);
    sgw_json* reply = NULL;
    ISC_RESULT code;
    const char* gw;
    if (!params) return SC_EC_OUT_OF_MEMORY;
    code = req(d, "RequestService", params, &reply, s); /* s->gw is set as it arrives */
    free(params);
    if (code != SC_EC_OK) { sgw_json_free(reply); return code; }
    gw = sgw_json_str(sgw_result(reply), "service");
    code = gw ? SC_EC_OK : SC_EC_SERVICE_CREATION_ERR;
    sgw_json_free(reply);
    if (code != SC_EC_OK) return code;
    return SC_EC_OK;
}

/* ---- driver handle methods ---- */

EXTERN_C ISCAPI long APIVersion(void) { return SCAPI_VERSION; }

EXTERN_C ISCAPI ISC_RESULT CreateISCDriverInstance(
    /* in */ const ISC_STRING mediaTypeStr, /* in */ const ISC_STRING languageCode,
    /* in */ const ISC_STRING connectString, /* in */ const struct ISC_KVParamList* datasetParams,
    /* out */ ISC_DRIVER_HANDLE* handle) {
    sgw_driver* d;
    char err[256];
    ISC_RESULT code;
    global_init();
    if (!handle) return SC_EC_ERROR;
    *handle = NULL;
    d = calloc(1, sizeof *d);
    if (!d) return SC_EC_OUT_OF_MEMORY;
    sgw_mutex_init(&d->lock);
    sgw_cond_init(&d->cond);
    sgw_mutex_init(&d->wlock);
    sgw_mutex_init(&d->tls_lock);
    sgw_mutex_init(&d->qlock);
    sgw_cond_init(&d->qcond);
    d->sock = SGW_BAD_SOCK;
    d->state = SGW_DOWN;
    d->media = sgw_utf16_to_utf8((const uint16_t*)mediaTypeStr);
    d->lang = sgw_utf16_to_utf8((const uint16_t*)languageCode);
    d->connect = sgw_utf16_to_utf8((const uint16_t*)connectString);
    d->params = copy_kv(datasetParams, &d->nparams);
    if (!d->media || !d->lang || !d->connect || !d->params) {
        sgw_driver_free(d);
        return SC_EC_OUT_OF_MEMORY;
    }
    if (parse_addresses(d) != 0 || parse_ms(d, "RequestTimeoutMs", 2000,
                                            &d->request_timeout_ms) != 0 ||
        parse_ms(d, "ConnectTimeoutMs", 3000, &d->connect_timeout_ms) != 0) {
        sgw_driver_free(d);
        return SC_EC_DRIVER_CREATION_ERR;
    }
    d->tls = truthy(param(d, "GatewayTls"));
    d->ca_file = strdup(param(d, "GatewayCaFile") ? param(d, "GatewayCaFile") : "");
    if (d->tls && !sgw_io_tls_available()) {
        sgw_log("GatewayTls is TRUE but this build has no TLS; build it with OpenSSL");
        sgw_driver_free(d);
        return SC_EC_DRIVER_CREATION_ERR;
    }
    if (sgw_conn_open(d, err, sizeof err) != 0) {
        sgw_driver_free(d);
        return SC_EC_NETWORK_ERROR; /* at once: never hang SCS when the gateway is down */
    }
    if (sgw_conn_start(d) != 0) {
        sgw_close(d->sock);
        sgw_driver_free(d);
        return SC_EC_ERROR;
    }
    sgw_lock(&g_lock);
    d->next = g_drivers;
    g_drivers = d;
    sgw_unlock(&g_lock);
    code = sgw_create_driver(d, sgw_request_ex);
    if (code != SC_EC_OK) {
        unlink_driver(d);
        sgw_conn_stop(d);
        sgw_thread_join(d->dispatcher);
        sgw_driver_free(d);
        return code;
    }
    *handle = (ISC_DRIVER_HANDLE)d;
    return SC_EC_OK;
}

/* The driver RequestCommandEventList asks (it has no handle): the newest live one. */
EXTERN_C ISCAPI ISC_RESULT RequestCommandEventList(
    /* in */ const ISC_STRING mediaTypeStr, /* out */ struct ISC_StrParamList* commandList,
    /* out */ struct ISC_StrParamList* eventList) {
    sgw_driver* d;
    sgw_buf b;
    sgw_json* reply = NULL;
    ISC_RESULT code;
    const sgw_json* lists[2];
    struct ISC_StrParamList* outs[2];
    int k;
    global_init();
    if (!commandList || !eventList) return SC_EC_ERROR;
    commandList->dataItems = eventList->dataItems = NULL;
    commandList->len = eventList->len = 0;
    sgw_lock(&g_lock);
    d = g_drivers;
    sgw_unlock(&g_lock);
    if (!d) return SC_EC_INVALID_HANDLE;
    sgw_buf_init(&b);
    sgw_buf_raw(&b, "{");
    put_str(&b, "mediaType", mediaTypeStr, 1);
    sgw_buf_raw(&b, "}");
    if (!b.ok) { sgw_buf_free(&b); return SC_EC_OUT_OF_MEMORY; }
    code = sgw_request(d, "RequestCommandEventList", b.buf, &reply);
    sgw_buf_free(&b);
    if (code != SC_EC_OK) return code;
    lists[0] = sgw_json_get(sgw_result(reply), "commands");
    lists[1] = sgw_json_get(sgw_result(reply), "events");
    outs[0] = commandList;
    outs[1] = eventList;
    for (k = 0; k < 2; k++) {
        size_t i, n = lists[k] && lists[k]->type == SGW_JARR ? lists[k]->n : 0;
        outs[k]->dataItems = calloc(n ? n : 1, sizeof(ISC_STRING));
        if (!outs[k]->dataItems) { code = SC_EC_OUT_OF_MEMORY; break; }
        for (i = 0; i < n; i++) {
            const sgw_json* it = &lists[k]->items[i];
            const char* s = it->type == SGW_JSTR ? it->str : "";
            outs[k]->dataItems[i] = (ISC_STRING)sgw_utf8_to_utf16(s, strlen(s));
            outs[k]->len++;
        }
    }
    sgw_json_free(reply);
    if (code != SC_EC_OK) {
        FreeSCStrParamList(*commandList);
        FreeSCStrParamList(*eventList);
        commandList->dataItems = eventList->dataItems = NULL;
        commandList->len = eventList->len = 0;
    }
    return code;
}

EXTERN_C ISCAPI void FreeSCStrParamList(/* in */ struct ISC_StrParamList strList) {
    long i;
    for (i = 0; strList.dataItems && i < strList.len; i++) free(strList.dataItems[i]);
    free(strList.dataItems);
}

EXTERN_C ISCAPI ISC_RESULT RequestService(
    /* in */ ISC_DRIVER_HANDLE handle, /* in */ const struct ISC_CLIENT_INTERFACE clntInterface,
    /* in */ const ISC_STRING connectString, /* in */ const struct ISC_KVParamList* datasetParams,
    /* out */ ISC_SERVICE_HANDLE* serviceHandle) {
    sgw_driver* d = (sgw_driver*)handle;
    sgw_service* s;
    char* gw_driver;
    ISC_RESULT code;
    global_init();
    if (!serviceHandle) return SC_EC_ERROR;
    *serviceHandle = NULL;
    s = calloc(1, sizeof *s);
    if (!s) return SC_EC_OUT_OF_MEMORY;
    s->ci = clntInterface;
    s->connect = sgw_utf16_to_utf8((const uint16_t*)connectString);
    s->params = copy_kv(datasetParams, &s->nparams);
    if (!s->connect || !s->params) { sgw_service_free(s); return SC_EC_OUT_OF_MEMORY; }
    sgw_lock(&g_lock);
    if (!driver_live(d) || !d->gw) {
        sgw_unlock(&g_lock);
        sgw_service_free(s);
        return SC_EC_INVALID_HANDLE;
    }
    s->drv = d;
    s->id = ++g_next_service_id;
    gw_driver = strdup(d->gw);
    sgw_unlock(&g_lock);
    if (!gw_driver) { sgw_service_free(s); return SC_EC_OUT_OF_MEMORY; }
    /* Listed before the request, so the callbacks that follow its result find it; it has no
     * gateway handle until the result arrives, so nothing is delivered to it before. */
    sgw_lock(&g_lock);
    s->next = d->services;
    d->services = s;
    sgw_unlock(&g_lock);
    code = sgw_create_service(d, s, gw_driver, sgw_request_ex);
    free(gw_driver);
    if (code != SC_EC_OK) {
        sgw_service** pp;
        sgw_lock(&g_lock);
        for (pp = &d->services; *pp; pp = &(*pp)->next)
            if (*pp == s) { *pp = s->next; break; }
        while (s->busy) sgw_cond_wait(&g_cond, &g_lock);
        sgw_unlock(&g_lock);
        sgw_service_free(s);
        return code;
    }
    *serviceHandle = (ISC_SERVICE_HANDLE)s;
    return SC_EC_OK;
}

static int on_dispatcher(sgw_driver* d) {
    int self;
    sgw_lock(&d->qlock);
    self = sgw_thread_is(sgw_thread_self(), d->dispatcher_id);
    sgw_unlock(&d->qlock);
    return self;
}

EXTERN_C ISCAPI ISC_RESULT ReleaseISCDriverInstance(/* in */ ISC_DRIVER_HANDLE handle) {
    sgw_driver* d = (sgw_driver*)handle;
    sgw_buf b;
    char* gw = NULL;
    ISC_RESULT code;
    global_init();
    sgw_lock(&g_lock);
    if (driver_live(d) && d->gw) gw = strdup(d->gw);
    sgw_unlock(&g_lock);
    if (!gw) return SC_EC_INVALID_HANDLE;
    sgw_buf_init(&b);
    sgw_buf_raw(&b, "{\"driver\":");
    sgw_buf_str(&b, gw);
    sgw_buf_raw(&b, "}");
    free(gw);
    code = b.ok ? sgw_request(d, "ReleaseISCDriverInstance", b.buf, NULL) : SC_EC_OUT_OF_MEMORY;
    sgw_buf_free(&b);
    unlink_driver(d);
    sgw_conn_stop(d); /* the gateway releases what the connection created when it closes */
    if (on_dispatcher(d)) {
        sgw_lock(&d->qlock);
        d->free_on_exit = 1; /* called from a callback: the dispatcher frees it on its way out */
        sgw_unlock(&d->qlock);
    } else {
        sgw_thread_join(d->dispatcher);
        sgw_driver_free(d);
    }
    return code; /* released here whatever the gateway said: Siebel never uses it again */
}

EXTERN_C ISCAPI ISC_RESULT GetImplementationObject(/* in */ ISC_HANDLE key,
                                                   /* out */ ISC_HANDLE* impObj) {
    (void)key;
    /* The shim wraps no other object and the SCS protocol has no such request. */
    if (impObj) *impObj = NULL;
    return SC_EC_IMPOBJ_CREATE_ERR;
}

/* ---- service handle methods ---- */

/* Sends method with {"service": <gw>, ...extra}; the common path of every service method. */
static ISC_RESULT service_call(ISC_SERVICE_HANDLE handle, const char* method, sgw_buf* extra) {
    sgw_driver* d = NULL;
    sgw_service* s;
    sgw_buf b;
    ISC_RESULT code;
    global_init();
    sgw_buf_init(&b);
    sgw_lock(&g_lock);
    s = service_live(handle, &d);
    if (s && s->gw) {
        sgw_buf_raw(&b, "{\"service\":");
        sgw_buf_str(&b, s->gw);
    }
    sgw_unlock(&g_lock);
    if (!s || !b.buf) {
        sgw_buf_free(&b);
        return SC_EC_INVALID_HANDLE;
    }
    sgw_buf_raw(&b, extra && extra->buf ? extra->buf : "");
    sgw_buf_raw(&b, "}");
    if (extra && !extra->ok) b.ok = 0;
    code = b.ok ? sgw_request(d, method, b.buf, NULL) : SC_EC_OUT_OF_MEMORY;
    sgw_buf_free(&b);
    return code;
}

EXTERN_C ISCAPI ISC_RESULT InvokeCommand(
    /* in */ ISC_SERVICE_HANDLE handle, /* in */ const ISC_STRING clntCmdTrackID,
    /* in */ const ISC_STRING name, /* in */ const ISC_STRING stringParam,
    /* in */ const struct ISC_KVParamList* datasetParam) {
    sgw_buf e;
    ISC_RESULT code;
    sgw_buf_init(&e);
    put_str(&e, "cmdTrackId", clntCmdTrackID, 0);
    put_str(&e, "name", name, 0);
    put_str(&e, "stringParam", stringParam, 0);
    put_kv(&e, "params", datasetParam);
    code = service_call(handle, "InvokeCommand", &e);
    sgw_buf_free(&e);
    return code;
}

EXTERN_C ISCAPI ISC_RESULT InvokeCommandEx(
    /* in */ ISC_SERVICE_HANDLE handle, /* in */ const ISC_STRING clntCmdTrackID,
    /* in */ enum SCCommandTypeEx commandType, /* in */ const struct ISC_KVParamList* datasetParam) {
    sgw_buf e;
    ISC_RESULT code;
    sgw_buf_init(&e);
    put_str(&e, "cmdTrackId", clntCmdTrackID, 0);
    sgw_buf_raw(&e, ",\"commandType\":");
    sgw_buf_long(&e, (long)commandType);
    put_kv(&e, "params", datasetParam);
    code = service_call(handle, "InvokeCommandEx", &e);
    sgw_buf_free(&e);
    return code;
}

static ISC_RESULT tracking_call(ISC_SERVICE_HANDLE handle, const char* method,
                                const ISC_STRING trackingID) {
    sgw_buf e;
    ISC_RESULT code;
    sgw_buf_init(&e);
    put_str(&e, "trackingId", trackingID, 0);
    code = service_call(handle, method, &e);
    sgw_buf_free(&e);
    return code;
}

EXTERN_C ISCAPI ISC_RESULT AcceptWorkItem(/* in */ ISC_SERVICE_HANDLE handle,
                                          /* in */ const ISC_STRING trackingID) {
    return tracking_call(handle, "AcceptWorkItem", trackingID);
}

EXTERN_C ISCAPI ISC_RESULT ReleaseWorkItem(/* in */ ISC_SERVICE_HANDLE handle,
                                           /* in */ const ISC_STRING trackingID) {
    return tracking_call(handle, "ReleaseWorkItem", trackingID);
}

EXTERN_C ISCAPI ISC_RESULT SuspendWorkItem(/* in */ ISC_SERVICE_HANDLE handle,
                                           /* in */ const ISC_STRING trackingID) {
    return tracking_call(handle, "SuspendWorkItem", trackingID);
}

EXTERN_C ISCAPI ISC_RESULT ResumeWorkItem(/* in */ ISC_SERVICE_HANDLE handle,
                                          /* in */ const ISC_STRING trackingID) {
    return tracking_call(handle, "ResumeWorkItem", trackingID);
}

EXTERN_C ISCAPI ISC_RESULT HandleQueuedWorkItem(
    /* in */ ISC_SERVICE_HANDLE handle, /* in */ const ISC_STRING name,
    /* in */ const struct ISC_KVParamList* fields, /* in */ const ISC_STRING trackingID) {
    sgw_buf e;
    ISC_RESULT code;
    sgw_buf_init(&e);
    put_str(&e, "name", name, 0);
    put_kv(&e, "fields", fields);
    put_str(&e, "trackingId", trackingID, 0);
    code = service_call(handle, "HandleQueuedWorkItem", &e);
    sgw_buf_free(&e);
    return code;
}

EXTERN_C ISCAPI ISC_RESULT NotifyEventHandlingFinished(
    /* in */ ISC_SERVICE_HANDLE handle, /* in */ const ISC_STRING trackingID,
    /* in */ ISC_BOOLEAN result) {
    sgw_buf e;
    ISC_RESULT code;
    sgw_buf_init(&e);
    put_str(&e, "trackingId", trackingID, 0);
    sgw_buf_raw(&e, result ? ",\"result\":true" : ",\"result\":false");
    code = service_call(handle, "NotifyEventHandlingFinished", &e);
    sgw_buf_free(&e);
    return code;
}

EXTERN_C ISCAPI ISC_RESULT ReleaseISCServiceInstance(/* in */ ISC_SERVICE_HANDLE handle) {
    sgw_driver* d = NULL;
    sgw_service* s;
    sgw_service** pp;
    int self, zombie;
    ISC_RESULT code = service_call(handle, "ReleaseISCServiceInstance", NULL);
    if (code == SC_EC_INVALID_HANDLE) {
        sgw_lock(&g_lock);
        s = service_live(handle, &d);
        sgw_unlock(&g_lock);
        if (!s) return code;
    }
    sgw_lock(&g_lock);
    s = service_live(handle, &d);
    sgw_unlock(&g_lock);
    if (!s) return SC_EC_INVALID_HANDLE;
    self = on_dispatcher(d);
    sgw_lock(&g_lock);
    for (pp = &d->services; *pp; pp = &(*pp)->next)
        if (*pp == s) { *pp = s->next; break; }
    /* the last call: wait for a callback to it still running elsewhere, then none follows */
    while (s->busy && !self) sgw_cond_wait(&g_cond, &g_lock);
    zombie = s->busy != 0;
    if (zombie) s->zombie = 1; /* called from its own callback: the dispatcher frees it */
    sgw_unlock(&g_lock);
    if (!zombie) sgw_service_free(s);
    return code; /* released here whatever the gateway said */
}
