/* fakecm.c -- a fake Siebel channel manager for the siebel_gateway shim.
 *
 * It dlopens the shim, resolves every SCAPI export by name, checks APIVersion, and then does
 * what Siebel's Communications Server does, one JSON command per stdin line:
 *   ["driver", D, mediaType, language, connectString, [[k, v], ...]]
 *       CreateISCDriverInstance, then RequestCommandEventList + FreeSCStrParamList
 *   ["service", S, D, connectString, [[k, v], ...]]      RequestService (callbacks recorded)
 *   ["invoke", S, cmdTrackId, name, stringParam, [[k, v], ...]]       InvokeCommand
 *   ["invokeex", S, cmdTrackId, commandType, [[k, v], ...]]           InvokeCommandEx
 *   ["accept" | "releasewi" | "suspend" | "resume", S, trackingId]    the work-item methods
 *   ["queued", S, name, [[k, v], ...], trackingId]                    HandleQueuedWorkItem
 *   ["notify", S, trackingId, true | false]                           NotifyEventHandlingFinished
 *   ["release_service", S]  ["release_driver", D]  ["impl", D]  ["quit"]
 *   ["stress", D, services, threads, firstAgentId, firstExtension]
 *       that many agents at once from that many threads: RequestService, LogIn, Ready,
 *       Not Ready, LogOut, ReleaseISCServiceInstance; no agent may see another's events
 * Every result is a stdout line {"r": command, "code": ISC_RESULT, "ms": elapsed, ...}.
 * Every callback is a stdout line shaped like the SCS protocol's notification
 * ({"method": ..., "params": {"service": S, ...}}), strings written as their UTF-16 code
 * units (\uXXXX beyond ASCII), so the test sees exactly what Siebel would.  A broken rule
 * (a callback after ReleaseISCServiceInstance, two callbacks of one service at once, an
 * unbalanced batch) is a {"violation": text} line.
 */
#ifdef SGW_REAL_SCAPI
#include "scapi.h"
#else
#include "scapi_compat.h"
#endif

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the exports, resolved by name ---- */

static long (*p_APIVersion)(void);
static ISC_RESULT (*p_Create)(const ISC_STRING, const ISC_STRING, const ISC_STRING,
                              const struct ISC_KVParamList*, ISC_DRIVER_HANDLE*);
static ISC_RESULT (*p_CmdEvtList)(const ISC_STRING, struct ISC_StrParamList*,
                                  struct ISC_StrParamList*);
static void (*p_FreeList)(struct ISC_StrParamList);
static ISC_RESULT (*p_RequestService)(ISC_DRIVER_HANDLE, const struct ISC_CLIENT_INTERFACE,
                                      const ISC_STRING, const struct ISC_KVParamList*,
                                      ISC_SERVICE_HANDLE*);
static ISC_RESULT (*p_ReleaseDriver)(ISC_DRIVER_HANDLE);
static ISC_RESULT (*p_GetImpl)(ISC_HANDLE, ISC_HANDLE*);
static ISC_RESULT (*p_Invoke)(ISC_SERVICE_HANDLE, const ISC_STRING, const ISC_STRING,
                              const ISC_STRING, const struct ISC_KVParamList*);
static ISC_RESULT (*p_InvokeEx)(ISC_SERVICE_HANDLE, const ISC_STRING, enum SCCommandTypeEx,
                                const struct ISC_KVParamList*);
static ISC_RESULT (*p_Accept)(ISC_SERVICE_HANDLE, const ISC_STRING);
static ISC_RESULT (*p_Queued)(ISC_SERVICE_HANDLE, const ISC_STRING,
                              const struct ISC_KVParamList*, const ISC_STRING);
static ISC_RESULT (*p_Notify)(ISC_SERVICE_HANDLE, const ISC_STRING, ISC_BOOLEAN);
static ISC_RESULT (*p_ReleaseWI)(ISC_SERVICE_HANDLE, const ISC_STRING);
static ISC_RESULT (*p_Suspend)(ISC_SERVICE_HANDLE, const ISC_STRING);
static ISC_RESULT (*p_Resume)(ISC_SERVICE_HANDLE, const ISC_STRING);
static ISC_RESULT (*p_ReleaseService)(ISC_SERVICE_HANDLE);

static void* resolve(void* lib, const char* name) {
    void* f = dlsym(lib, name);
    if (!f) {
        fprintf(stderr, "fakecm: the library does not export %s\n", name);
        exit(3);
    }
    return f;
}

#define RESOLVE(ptr, name) (*(void**)&(ptr) = resolve(lib, name))

/* ---- output ---- */

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct {
    char* buf;
    size_t len, cap;
} text;

static void add(text* t, const char* s, size_t n) {
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->buf = realloc(t->buf, t->cap);
        if (!t->buf) abort();
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

static void adds(text* t, const char* s) { add(t, s, strlen(s)); }

/* A UTF-16 string as a JSON literal, code unit by code unit. */
static void add_u16(text* t, const ISC_CHAR* s) {
    adds(t, "\"");
    for (; s && *s; s++) {
        char tmp[8];
        unsigned u = (unsigned)(uint16_t)*s;
        if (u < 0x20 || u >= 0x7F || u == '"' || u == '\\') {
            snprintf(tmp, sizeof tmp, "\\u%04x", u);
            add(t, tmp, 6);
        } else {
            tmp[0] = (char)u;
            add(t, tmp, 1);
        }
    }
    adds(t, "\"");
}

static void add_key_u16(text* t, const char* key, const ISC_CHAR* s) {
    adds(t, ",\"");
    adds(t, key);
    adds(t, "\":");
    add_u16(t, s);
}

static void add_long(text* t, const char* key, long v) {
    char tmp[64];
    snprintf(tmp, sizeof tmp, ",\"%s\":%ld", key, v);
    adds(t, tmp);
}

static void emit(text* t) {
    pthread_mutex_lock(&out_lock);
    fputs(t->buf, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
    free(t->buf);
}

static void violation(const char* what, const char* svc) {
    text t = {0};
    adds(&t, "{\"violation\":\"");
    adds(&t, what);
    adds(&t, " (service ");
    adds(&t, svc);
    adds(&t, ")\"}");
    emit(&t);
}

/* ---- services and their recorded callbacks ---- */

typedef struct svc {
    char name[64];
    ISC_SERVICE_HANDLE h;
    atomic_int released;
    atomic_int in_callback;
    int in_batch;
    int quiet;         /* stress services: recorded, not printed */
    char agent[32];    /* stress: the agent whose events only */
    pthread_mutex_t m;
    pthread_cond_t c;
    char** events;     /* HandleEvent names received, in order */
    size_t nevents;
    int foreign;       /* stress: an event carried another agent's id */
    struct svc* next;
} svc;

static svc* services;
static pthread_mutex_t svc_lock = PTHREAD_MUTEX_INITIALIZER;

static svc* new_svc(const char* name) {
    svc* s = calloc(1, sizeof *s);
    if (!s) abort();
    snprintf(s->name, sizeof s->name, "%s", name);
    pthread_mutex_init(&s->m, NULL);
    pthread_cond_init(&s->c, NULL);
    pthread_mutex_lock(&svc_lock);
    s->next = services;
    services = s;
    pthread_mutex_unlock(&svc_lock);
    return s;
}

static svc* find_svc(const char* name) {
    svc* s;
    pthread_mutex_lock(&svc_lock);
    for (s = services; s; s = s->next)
        if (strcmp(s->name, name) == 0) break;
    pthread_mutex_unlock(&svc_lock);
    return s;
}

/* Start of every callback: the rules Siebel relies on. */
static svc* enter(ISC_CLIENT_HANDLE h, const char* method, text* t) {
    svc* s = (svc*)h;
    if (atomic_load(&s->released)) violation("callback after ReleaseISCServiceInstance", s->name);
    if (atomic_fetch_add(&s->in_callback, 1) != 0)
        violation("two callbacks of one service at once", s->name);
    memset(t, 0, sizeof *t);
    adds(t, "{\"method\":\"");
    adds(t, method);
    adds(t, "\",\"params\":{\"service\":\"");
    adds(t, s->name);
    adds(t, "\"");
    return s;
}

static ISC_RESULT leave(svc* s, text* t) {
    adds(t, "}}");
    if (s->quiet) free(t->buf);
    else emit(t);
    atomic_fetch_sub(&s->in_callback, 1);
    return SC_EC_OK;
}

static void add_kv(text* t, const char* key, const struct ISC_KVParamList* kv) {
    long i;
    adds(t, ",\"");
    adds(t, key);
    adds(t, "\":[");
    for (i = 0; kv && i < kv->len; i++) {
        if (i) adds(t, ",");
        adds(t, "[");
        add_u16(t, kv->dataItems[i].paramName);
        adds(t, ",");
        add_u16(t, kv->dataItems[i].paramValue);
        adds(t, "]");
    }
    adds(t, "]");
}

static int ascii_eq(const ISC_CHAR* u, const char* a) {
    while (*u && *a && (char)*u == *a) { u++; a++; }
    return *u == 0 && *a == 0;
}

static char* ascii_of(const ISC_CHAR* u) {
    size_t n = 0, i;
    char* out;
    while (u && u[n]) n++;
    out = malloc(n + 1);
    if (!out) abort();
    for (i = 0; i < n; i++) out[i] = u[i] < 0x80 ? (char)u[i] : '?';
    out[n] = '\0';
    return out;
}

static ISC_RESULT cb_HandleEvent(ISC_CLIENT_HANDLE h, const ISC_STRING name,
                                 const struct ISC_KVParamList* fields, ISC_BOOLEAN notify,
                                 const ISC_STRING trackingID) {
    text t;
    svc* s = enter(h, "HandleEvent", &t);
    long i;
    add_key_u16(&t, "name", name);
    add_kv(&t, "fields", fields);
    adds(&t, notify ? ",\"notifyWhenDone\":true" : ",\"notifyWhenDone\":false");
    add_key_u16(&t, "trackingId", trackingID);
    pthread_mutex_lock(&s->m);
    for (i = 0; s->agent[0] && fields && i < fields->len; i++)
        if (ascii_eq(fields->dataItems[i].paramName, "AgentId") &&
            fields->dataItems[i].paramValue[0] != 0 &&
            !ascii_eq(fields->dataItems[i].paramValue, s->agent))
            s->foreign = 1;
    s->events = realloc(s->events, (s->nevents + 1) * sizeof *s->events);
    if (!s->events) abort();
    s->events[s->nevents++] = ascii_of(name);
    pthread_cond_broadcast(&s->c);
    pthread_mutex_unlock(&s->m);
    return leave(s, &t);
}

static ISC_RESULT cb_HandleError(ISC_CLIENT_HANDLE h, const ISC_STRING track,
                                 const ISC_STRING error) {
    text t;
    svc* s = enter(h, "HandleError", &t);
    add_key_u16(&t, "cmdTrackId", track);
    add_key_u16(&t, "error", error);
    return leave(s, &t);
}

static ISC_RESULT cb_ShowStatusText(ISC_CLIENT_HANDLE h, const ISC_STRING text_) {
    text t;
    svc* s = enter(h, "ShowStatusText", &t);
    add_key_u16(&t, "text", text_);
    return leave(s, &t);
}

static ISC_RESULT cb_Cache(ISC_CLIENT_HANDLE h, const struct ISC_StrParamList* names,
                           const struct ISC_StrParamList* descs,
                           const struct ISC_LongParamList* stats) {
    text t;
    svc* s = enter(h, "CacheCommandInformation", &t);
    const struct ISC_StrParamList* lists[2] = {names, descs};
    const char* keys[2] = {"commands", "descriptions"};
    long i;
    int k;
    char tmp[32];
    for (k = 0; k < 2; k++) {
        adds(&t, ",\"");
        adds(&t, keys[k]);
        adds(&t, "\":[");
        for (i = 0; i < lists[k]->len; i++) {
            if (i) adds(&t, ",");
            add_u16(&t, lists[k]->dataItems[i]);
        }
        adds(&t, "]");
    }
    adds(&t, ",\"statuses\":[");
    for (i = 0; i < stats->len; i++) {
        snprintf(tmp, sizeof tmp, "%s%ld", i ? "," : "", stats->dataItems[i]);
        adds(&t, tmp);
    }
    adds(&t, "]");
    return leave(s, &t);
}

static ISC_RESULT cb_Update(ISC_CLIENT_HANDLE h, const ISC_STRING tid, const ISC_STRING target,
                            const struct ISC_KVParamList* info) {
    text t;
    svc* s = enter(h, "UpdateObjectInformation", &t);
    add_key_u16(&t, "trackingId", tid);
    add_key_u16(&t, "mediaTargetAddr", target);
    add_kv(&t, "info", info);
    return leave(s, &t);
}

static ISC_RESULT cb_Indicate(ISC_CLIENT_HANDLE h, const ISC_STRING tid, const ISC_STRING old,
                              const ISC_STRING desc, enum SCWorkItemMode mode) {
    text t;
    svc* s = enter(h, "IndicateNewWorkItem", &t);
    add_key_u16(&t, "trackingId", tid);
    add_key_u16(&t, "oldTrackingId", old);
    add_key_u16(&t, "description", desc);
    add_long(&t, "mode", (long)mode);
    return leave(s, &t);
}

static ISC_RESULT cb_Started(ISC_CLIENT_HANDLE h, const ISC_STRING tid, const ISC_STRING old,
                             const ISC_STRING desc, const ISC_STRING target, time_t start) {
    text t;
    svc* s = enter(h, "WorkItemStarted", &t);
    add_key_u16(&t, "trackingId", tid);
    add_key_u16(&t, "oldTrackingId", old);
    add_key_u16(&t, "description", desc);
    add_key_u16(&t, "mediaTargetAddr", target);
    add_long(&t, "startTime", (long)start);
    return leave(s, &t);
}

static ISC_RESULT cb_Released(ISC_CLIENT_HANDLE h, const ISC_STRING tid, time_t stop) {
    text t;
    svc* s = enter(h, "WorkItemReleased", &t);
    add_key_u16(&t, "trackingId", tid);
    add_long(&t, "stopTime", (long)stop);
    return leave(s, &t);
}

static ISC_RESULT cb_Suspended(ISC_CLIENT_HANDLE h, const ISC_STRING tid) {
    text t;
    svc* s = enter(h, "WorkItemSuspended", &t);
    add_key_u16(&t, "trackingId", tid);
    return leave(s, &t);
}

static ISC_RESULT cb_Resumed(ISC_CLIENT_HANDLE h, const ISC_STRING tid) {
    text t;
    svc* s = enter(h, "WorkItemResumed", &t);
    add_key_u16(&t, "trackingId", tid);
    return leave(s, &t);
}

static ISC_RESULT cb_CleanAll(ISC_CLIENT_HANDLE h) {
    text t;
    svc* s = enter(h, "CleanAllWorkItem", &t);
    return leave(s, &t);
}

static ISC_RESULT cb_BeginBatch(ISC_CLIENT_HANDLE h) {
    text t;
    svc* s = enter(h, "BeginBatch", &t);
    if (s->in_batch) violation("BeginBatch inside a batch", s->name);
    s->in_batch = 1;
    return leave(s, &t);
}

static ISC_RESULT cb_EndBatch(ISC_CLIENT_HANDLE h) {
    text t;
    svc* s = enter(h, "EndBatch", &t);
    if (!s->in_batch) violation("EndBatch without BeginBatch", s->name);
    s->in_batch = 0;
    return leave(s, &t);
}

static struct ISC_CLIENT_INTERFACE client_interface(svc* s) {
    struct ISC_CLIENT_INTERFACE ci;
    memset(&ci, 0, sizeof ci);
    ci.clientHandle = (ISC_CLIENT_HANDLE)s;
    ci.BeginBatch = cb_BeginBatch;
    ci.CacheCommandInformation = cb_Cache;
    ci.CleanAllWorkItem = cb_CleanAll;
    ci.EndBatch = cb_EndBatch;
    ci.HandleError = cb_HandleError;
    ci.HandleEvent = cb_HandleEvent;
    ci.IndicateNewWorkItem = cb_Indicate;
    ci.ShowStatusText = cb_ShowStatusText;
    ci.UpdateObjectInformation = cb_Update;
    ci.WorkItemStarted = cb_Started;
    ci.WorkItemReleased = cb_Released;
    ci.WorkItemSuspended = cb_Suspended;
    ci.WorkItemResumed = cb_Resumed;
    return ci;
}

/* ---- the command lines: JSON arrays, strings kept as UTF-16 code units ---- */

typedef struct val {
    int type; /* 's' string, 'n' number, 'b' bool, 'a' array */
    ISC_CHAR* s;
    double n;
    struct val* items;
    size_t len;
} val;

static const char* skipws(const char* p) {
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
    return p;
}

static const char* parse(const char* p, val* v, int depth) {
    memset(v, 0, sizeof *v);
    p = skipws(p);
    if (depth > 16) return NULL;
    if (*p == '"') {
        size_t cap = 16, n = 0;
        v->type = 's';
        v->s = malloc(cap * sizeof *v->s);
        for (p++; *p && *p != '"'; p++) {
            unsigned u = (unsigned char)*p;
            if (*p == '\\') {
                p++;
                switch (*p) {
                case 'n': u = '\n'; break;
                case 't': u = '\t'; break;
                case 'r': u = '\r'; break;
                case 'b': u = '\b'; break;
                case 'f': u = '\f'; break;
                case 'u':
                    if (sscanf(p + 1, "%4x", &u) != 1) return NULL;
                    p += 4;
                    break;
                case '\0': return NULL;
                default: u = (unsigned char)*p;
                }
            }
            if (n + 2 > cap) v->s = realloc(v->s, (cap *= 2) * sizeof *v->s);
            v->s[n++] = (ISC_CHAR)u; /* a raw byte beyond ASCII: send \u escapes instead */
        }
        if (*p != '"') return NULL;
        v->s[n] = 0;
        return p + 1;
    }
    if (*p == '[') {
        size_t cap = 0;
        v->type = 'a';
        p = skipws(p + 1);
        if (*p == ']') return p + 1;
        for (;;) {
            if (v->len == cap) v->items = realloc(v->items, (cap = cap ? cap * 2 : 8) * sizeof *v->items);
            p = parse(p, &v->items[v->len++], depth + 1);
            if (!p) return NULL;
            p = skipws(p);
            if (*p == ',') { p++; continue; }
            if (*p == ']') return p + 1;
            return NULL;
        }
    }
    if (strncmp(p, "true", 4) == 0) { v->type = 'b'; v->n = 1; return p + 4; }
    if (strncmp(p, "false", 5) == 0) { v->type = 'b'; return p + 5; }
    {
        char* end;
        v->type = 'n';
        v->n = strtod(p, &end);
        return end == p ? NULL : end;
    }
}

static void val_free(val* v) {
    size_t i;
    for (i = 0; i < v->len; i++) val_free(&v->items[i]);
    free(v->items);
    free(v->s);
}

static ISC_CHAR empty_u16[1] = {0};

static ISC_CHAR* arg_s(const val* cmd, size_t i) {
    return i < cmd->len && cmd->items[i].type == 's' ? cmd->items[i].s : empty_u16;
}

static char* arg_a(const val* cmd, size_t i) { return ascii_of(arg_s(cmd, i)); }

static long arg_n(const val* cmd, size_t i) {
    return i < cmd->len ? (long)cmd->items[i].n : 0;
}

/* [[k, v], ...] as a key/value list pointing into the command (freed with kv_done). */
static struct ISC_KVParamList arg_kv(const val* cmd, size_t i) {
    struct ISC_KVParamList kv = {NULL, 0};
    const val* a = i < cmd->len && cmd->items[i].type == 'a' ? &cmd->items[i] : NULL;
    size_t k;
    kv.dataItems = calloc(a && a->len ? a->len : 1, sizeof *kv.dataItems);
    for (k = 0; a && k < a->len; k++) {
        kv.dataItems[k].paramName = arg_s(&a->items[k], 0);
        kv.dataItems[k].paramValue = arg_s(&a->items[k], 1);
    }
    kv.len = a ? (long)a->len : 0;
    return kv;
}

/* ---- drivers by name ---- */

typedef struct drv {
    char name[64];
    ISC_DRIVER_HANDLE h;
    struct drv* next;
} drv;

static drv* drivers;

static drv* find_drv(const char* name) {
    drv* d;
    for (d = drivers; d; d = d->next)
        if (strcmp(d->name, name) == 0) return d;
    return NULL;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void result(const char* what, ISC_RESULT code, double started, text* extra) {
    text t = {0};
    char tmp[160];
    snprintf(tmp, sizeof tmp, "{\"r\":\"%s\",\"code\":%ld,\"ms\":%.1f", what, (long)code,
             now_ms() - started);
    adds(&t, tmp);
    if (extra && extra->buf) adds(&t, extra->buf);
    adds(&t, "}");
    free(extra ? extra->buf : NULL);
    emit(&t);
}

static void add_list(text* t, const char* key, const struct ISC_StrParamList* l) {
    long i;
    adds(t, ",\"");
    adds(t, key);
    adds(t, "\":[");
    for (i = 0; i < l->len; i++) {
        if (i) adds(t, ",");
        add_u16(t, l->dataItems[i]);
    }
    adds(t, "]");
}

/* ---- stress: many agents from many threads ---- */

static ISC_CHAR* u16_of(const char* a) {
    size_t n = strlen(a), i;
    ISC_CHAR* u = malloc((n + 1) * sizeof *u);
    if (!u) abort();
    for (i = 0; i <= n; i++) u[i] = (ISC_CHAR)(unsigned char)a[i];
    return u;
}

typedef struct {
    ISC_DRIVER_HANDLE driver;
    int first, count, step, agent0, ext0;
    int ok;
} stress_job;

/* Waits for HandleEvent `name` after *cursor (at most 60 s). */
static int wait_event(svc* s, const char* name, size_t* cursor) {
    struct timespec dl;
    int found = 0;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 60;
    pthread_mutex_lock(&s->m);
    while (!found) {
        for (; *cursor < s->nevents && !found; (*cursor)++)
            found = strcmp(s->events[*cursor], name) == 0;
        if (!found && pthread_cond_timedwait(&s->c, &s->m, &dl) != 0) break;
    }
    pthread_mutex_unlock(&s->m);
    return found;
}

static ISC_RESULT invoke_ascii(svc* s, int n, const char* name, const char** kv, int nkv) {
    struct ISC_KVParamList l;
    struct ISC_KeyValue items[4];
    char track[96];
    ISC_CHAR *t, *nm, *empty = u16_of("");
    ISC_RESULT code;
    int i;
    for (i = 0; i < nkv; i++) {
        items[i].paramName = u16_of(kv[2 * i]);
        items[i].paramValue = u16_of(kv[2 * i + 1]);
    }
    l.dataItems = items;
    l.len = nkv;
    snprintf(track, sizeof track, "%s-%d", s->name, n);
    t = u16_of(track);
    nm = u16_of(name);
    code = p_Invoke(s->h, t, nm, empty, &l);
    for (i = 0; i < nkv; i++) {
        free(items[i].paramName);
        free(items[i].paramValue);
    }
    free(t);
    free(nm);
    free(empty);
    return code;
}

static int one_agent(ISC_DRIVER_HANDLE driver, int i, int agent, int ext) {
    char name[64], aid[16], ex[16], pin[32];
    const char* login[6];
    const char* nr[2] = {"ReasonCode", "1"};
    const char* lo[2] = {"ReasonCode", "10"};
    struct ISC_KeyValue sp[2];
    struct ISC_KVParamList l = {sp, 2};
    struct ISC_CLIENT_INTERFACE ci;
    ISC_CHAR* empty = u16_of("");
    size_t cursor = 0;
    svc* s;
    ISC_RESULT code;
    int tries, ok = 0;
    double started;
    snprintf(name, sizeof name, "stress%d", i);
    snprintf(aid, sizeof aid, "%d", agent);
    snprintf(ex, sizeof ex, "%d", ext);
    snprintf(pin, sizeof pin, "secret%d", agent);
    s = new_svc(name);
    s->quiet = 1;
    snprintf(s->agent, sizeof s->agent, "%s", aid);
    sp[0].paramName = u16_of("AgentId");
    sp[0].paramValue = u16_of(aid);
    sp[1].paramName = u16_of("Extension");
    sp[1].paramValue = u16_of(ex);
    ci = client_interface(s);
    code = p_RequestService(driver, ci, empty, &l, &s->h);
    if (code != SC_EC_OK) goto done;
    login[0] = "AgentId"; login[1] = aid;
    login[2] = "AgentPin"; login[3] = pin;
    login[4] = "Extension"; login[5] = ex;
    started = now_ms();
    for (tries = 0; (code = invoke_ascii(s, 1, "LogIn", login, 3)) == SC_EC_NETWORK_ERROR &&
                    now_ms() - started < 30000; tries++) {
        struct timespec ts = {0, 200000000L};
        nanosleep(&ts, NULL); /* the gateway may still be saying Hello to the GC */
    }
    ok = code == SC_EC_OK && wait_event(s, "EventAgentLogin", &cursor) &&
         invoke_ascii(s, 2, "ChangeReadyState", NULL, 0) == SC_EC_OK &&
         wait_event(s, "EventAgentReady", &cursor) &&
         invoke_ascii(s, 3, "ChangeNotReadyState", nr, 1) == SC_EC_OK &&
         wait_event(s, "EventAgentNotReady", &cursor) &&
         invoke_ascii(s, 4, "LogOut", lo, 1) == SC_EC_OK &&
         wait_event(s, "EventAgentLogout", &cursor);
    code = p_ReleaseService(s->h);
    atomic_store(&s->released, 1);
    ok = ok && code == SC_EC_OK;
done:
    {
        text t = {0};
        char tmp[200];
        size_t k;
        pthread_mutex_lock(&s->m);
        snprintf(tmp, sizeof tmp, "{\"r\":\"stress-agent\",\"agent\":\"%s\",\"ok\":%s,"
                 "\"foreign\":%s,\"events\":[", aid, ok ? "true" : "false",
                 s->foreign ? "true" : "false");
        adds(&t, tmp);
        for (k = 0; k < s->nevents; k++) {
            if (k) adds(&t, ",");
            adds(&t, "\"");
            adds(&t, s->events[k]);
            adds(&t, "\"");
        }
        adds(&t, "]}");
        pthread_mutex_unlock(&s->m);
        emit(&t);
    }
    free(sp[0].paramName);
    free(sp[0].paramValue);
    free(sp[1].paramName);
    free(sp[1].paramValue);
    free(empty);
    return ok && !s->foreign;
}

static void* stress_thread(void* arg) {
    stress_job* j = arg;
    int i;
    for (i = j->first; i < j->count; i += j->step)
        j->ok += one_agent(j->driver, i, j->agent0 + i, j->ext0 + i);
    return NULL;
}

static void stress(const val* cmd, double started) {
    drv* d = NULL;
    char* dn = arg_a(cmd, 1);
    int n = (int)arg_n(cmd, 2), threads = (int)arg_n(cmd, 3), k, ok = 0;
    pthread_t th[64];
    stress_job jobs[64];
    text extra = {0};
    char tmp[64];
    d = find_drv(dn);
    free(dn);
    if (!d || threads < 1 || threads > 64) {
        result("stress", SC_EC_ERROR, started, NULL);
        return;
    }
    for (k = 0; k < threads; k++) {
        jobs[k].driver = d->h;
        jobs[k].first = k;
        jobs[k].count = n;
        jobs[k].step = threads;
        jobs[k].agent0 = (int)arg_n(cmd, 4);
        jobs[k].ext0 = (int)arg_n(cmd, 5);
        jobs[k].ok = 0;
        pthread_create(&th[k], NULL, stress_thread, &jobs[k]);
    }
    for (k = 0; k < threads; k++) {
        pthread_join(th[k], NULL);
        ok += jobs[k].ok;
    }
    snprintf(tmp, sizeof tmp, ",\"ok\":%d", ok);
    adds(&extra, tmp);
    result("stress", ok == n ? SC_EC_OK : SC_EC_ERROR, started, &extra);
}

/* ---- one command ---- */

static int run(const val* cmd) {
    char* what;
    double started = now_ms();
    ISC_RESULT code = SC_EC_ERROR;
    svc* s = NULL;
    if (cmd->type != 'a' || cmd->len == 0 || cmd->items[0].type != 's') {
        fprintf(stderr, "fakecm: a command is a JSON array starting with its name\n");
        return 1;
    }
    what = arg_a(cmd, 0);
    if (strcmp(what, "quit") == 0) { free(what); return 0; }
    if (strcmp(what, "stress") == 0) {
        stress(cmd, started);
        free(what);
        return 2;
    }
    if (strcmp(what, "driver") == 0) {
        struct ISC_KVParamList kv = arg_kv(cmd, 5);
        drv* d = calloc(1, sizeof *d);
        char* dn = arg_a(cmd, 1);
        text extra = {0};
        snprintf(d->name, sizeof d->name, "%s", dn);
        free(dn);
        code = p_Create(arg_s(cmd, 2), arg_s(cmd, 3), arg_s(cmd, 4), &kv, &d->h);
        free(kv.dataItems);
        if (code == SC_EC_OK) {
            struct ISC_StrParamList cmds, evts;
            d->next = drivers;
            drivers = d;
            code = p_CmdEvtList(arg_s(cmd, 2), &cmds, &evts);
            if (code == SC_EC_OK) {
                add_list(&extra, "commands", &cmds);
                add_list(&extra, "events", &evts);
                p_FreeList(cmds); /* SCS returns the lists to the driver */
                p_FreeList(evts);
            }
        } else {
            free(d);
        }
        result("driver", code, started, &extra);
    } else if (strcmp(what, "service") == 0) {
        struct ISC_KVParamList kv = arg_kv(cmd, 4);
        char* sn = arg_a(cmd, 1);
        char* dn = arg_a(cmd, 2);
        drv* d = find_drv(dn);
        s = new_svc(sn);
        code = d ? p_RequestService(d->h, client_interface(s), arg_s(cmd, 3), &kv, &s->h)
                 : SC_EC_INVALID_HANDLE;
        free(kv.dataItems);
        free(sn);
        free(dn);
        result("service", code, started, NULL);
    } else if (strcmp(what, "release_driver") == 0 || strcmp(what, "impl") == 0) {
        char* dn = arg_a(cmd, 1);
        drv* d = find_drv(dn);
        ISC_HANDLE obj = NULL;
        free(dn);
        if (!d) code = SC_EC_INVALID_HANDLE;
        else if (what[0] == 'i') code = p_GetImpl(d->h, &obj);
        else {
            svc* x;
            drv** pp;
            code = p_ReleaseDriver(d->h);
            for (pp = &drivers; *pp; pp = &(*pp)->next)
                if (*pp == d) { *pp = d->next; break; }
            free(d);
            pthread_mutex_lock(&svc_lock);
            for (x = services; x; x = x->next) atomic_store(&x->released, 1);
            pthread_mutex_unlock(&svc_lock);
        }
        result(what, code, started, NULL);
    } else {
        char* sn = arg_a(cmd, 1);
        s = find_svc(sn);
        free(sn);
        if (!s) {
            fprintf(stderr, "fakecm: no service by that name\n");
            free(what);
            return 1;
        }
        if (strcmp(what, "invoke") == 0) {
            struct ISC_KVParamList kv = arg_kv(cmd, 5);
            code = p_Invoke(s->h, arg_s(cmd, 2), arg_s(cmd, 3), arg_s(cmd, 4), &kv);
            free(kv.dataItems);
        } else if (strcmp(what, "invokeex") == 0) {
            struct ISC_KVParamList kv = arg_kv(cmd, 4);
            code = p_InvokeEx(s->h, arg_s(cmd, 2), (enum SCCommandTypeEx)arg_n(cmd, 3), &kv);
            free(kv.dataItems);
        } else if (strcmp(what, "accept") == 0) code = p_Accept(s->h, arg_s(cmd, 2));
        else if (strcmp(what, "releasewi") == 0) code = p_ReleaseWI(s->h, arg_s(cmd, 2));
        else if (strcmp(what, "suspend") == 0) code = p_Suspend(s->h, arg_s(cmd, 2));
        else if (strcmp(what, "resume") == 0) code = p_Resume(s->h, arg_s(cmd, 2));
        else if (strcmp(what, "queued") == 0) {
            struct ISC_KVParamList kv = arg_kv(cmd, 3);
            code = p_Queued(s->h, arg_s(cmd, 2), &kv, arg_s(cmd, 4));
            free(kv.dataItems);
        } else if (strcmp(what, "notify") == 0) {
            code = p_Notify(s->h, arg_s(cmd, 2), (ISC_BOOLEAN)arg_n(cmd, 3));
        } else if (strcmp(what, "release_service") == 0) {
            code = p_ReleaseService(s->h);
            atomic_store(&s->released, 1); /* from here on a callback is a violation */
        } else {
            fprintf(stderr, "fakecm: unknown command\n");
            free(what);
            return 1;
        }
        result(what, code, started, NULL);
    }
    free(what);
    return 2;
}

int main(int argc, char** argv) {
    void* lib;
    char* line = NULL;
    size_t cap = 0;
    long version;
    int rc = 0;
    if (argc != 2) {
        fprintf(stderr, "usage: siebelgw_fakecm LIBRARY < commands\n");
        return 2;
    }
    lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "fakecm: cannot load %s: %s\n", argv[1], dlerror());
        return 3;
    }
    RESOLVE(p_APIVersion, "APIVersion");
    RESOLVE(p_Create, "CreateISCDriverInstance");
    RESOLVE(p_CmdEvtList, "RequestCommandEventList");
    RESOLVE(p_FreeList, "FreeSCStrParamList");
    RESOLVE(p_RequestService, "RequestService");
    RESOLVE(p_ReleaseDriver, "ReleaseISCDriverInstance");
    RESOLVE(p_GetImpl, "GetImplementationObject");
    RESOLVE(p_Invoke, "InvokeCommand");
    RESOLVE(p_InvokeEx, "InvokeCommandEx");
    RESOLVE(p_Accept, "AcceptWorkItem");
    RESOLVE(p_Queued, "HandleQueuedWorkItem");
    RESOLVE(p_Notify, "NotifyEventHandlingFinished");
    RESOLVE(p_ReleaseWI, "ReleaseWorkItem");
    RESOLVE(p_Suspend, "SuspendWorkItem");
    RESOLVE(p_Resume, "ResumeWorkItem");
    RESOLVE(p_ReleaseService, "ReleaseISCServiceInstance");
    version = p_APIVersion();
    if (version != SCAPI_VERSION) {
        fprintf(stderr, "fakecm: APIVersion() is %ld, Communications Server needs %d\n",
                version, SCAPI_VERSION);
        return 4;
    }
    printf("{\"r\":\"loaded\",\"version\":%ld}\n", version);
    fflush(stdout);
    for (;;) {
        ssize_t n = getline(&line, &cap, stdin);
        val cmd;
        const char* end;
        if (n < 0) break;
        end = parse(line, &cmd, 0);
        if (!end || *skipws(end)) {
            fprintf(stderr, "fakecm: not a JSON command: %s", line);
            rc = 1;
            val_free(&cmd);
            break;
        }
        rc = run(&cmd);
        val_free(&cmd);
        if (rc != 2) break;
        rc = 0;
    }
    free(line);
    {
        drv* d;
        svc* s;
        while ((d = drivers)) { /* as SCS does when it stops */
            drivers = d->next;
            p_ReleaseDriver(d->h);
            free(d);
        }
        while ((s = services)) {
            size_t k;
            services = s->next;
            for (k = 0; k < s->nevents; k++) free(s->events[k]);
            free(s->events);
            pthread_mutex_destroy(&s->m);
            pthread_cond_destroy(&s->c);
            free(s);
        }
    }
    return rc;
}
