/* dispatch.c -- callbacks to Siebel: one dispatcher thread per driver delivers, in the order
 * the gateway sent them, through the client interface of the service they name; UTF-8 ->
 * UTF-16, lists freed after the callback returns; nothing after ReleaseISCServiceInstance. */
#include <stdlib.h>
#include <string.h>

#include "shim.h"
#include "utf.h"

#define LOST_TEXT "Connection to the Siebel gateway lost; reconnecting"
#define BACK_TEXT "Connection to the Siebel gateway restored"

void sgw_enqueue(sgw_driver* d, long svc_id, enum sgw_item_kind kind, sgw_json* msg,
                 const char* text) {
    sgw_item* it = calloc(1, sizeof *it);
    if (!it) {
        sgw_log("out of memory: a callback was lost");
        sgw_json_free(msg);
        return;
    }
    it->svc_id = svc_id;
    it->kind = kind;
    it->msg = msg;
    it->text = text ? strdup(text) : NULL;
    sgw_lock(&d->qlock);
    if (d->qtail) d->qtail->next = it;
    else d->qhead = it;
    d->qtail = it;
    sgw_cond_broadcast(&d->qcond);
    sgw_unlock(&d->qlock);
}

void sgw_on_callback(sgw_driver* d, sgw_json* msg) {
    const sgw_json* params = sgw_json_get(msg, "params");
    const char* gw = sgw_json_str(params, "service");
    const char* method = sgw_json_str(msg, "method");
    sgw_service* s;
    long id = 0;
    if (!gw || !method) {
        sgw_log("ignored a callback without method or service");
        sgw_json_free(msg);
        return;
    }
    sgw_lock(&g_lock);
    for (s = d->services; s; s = s->next)
        if (s->gw && strcmp(s->gw, gw) == 0) { id = s->id; break; }
    sgw_unlock(&g_lock);
    if (!id) { /* a released service, or one the gateway knows and we do not */
        sgw_log("dropped %s for service %s, which is not open", method, gw);
        sgw_json_free(msg);
        return;
    }
    sgw_enqueue(d, id, SGW_CALLBACK, msg, NULL);
}

void sgw_on_down(sgw_driver* d) {
    sgw_service* s;
    sgw_lock(&g_lock);
    for (s = d->services; s; s = s->next) sgw_enqueue(d, s->id, SGW_LINK_DOWN, NULL, NULL);
    sgw_unlock(&g_lock);
}

/* ---- UTF-16 lists built for one callback and freed after it ---- */

static ISC_STRING u16(const char* s) {
    return (ISC_STRING)sgw_utf8_to_utf16(s ? s : "", s ? strlen(s) : 0);
}

static const char* str_of(const sgw_json* params, const char* key) {
    const char* s = sgw_json_str(params, key);
    return s ? s : "";
}

static int kv_from_json(const sgw_json* arr, struct ISC_KVParamList* out) {
    size_t i, n = arr && arr->type == SGW_JARR ? arr->n : 0;
    out->len = 0;
    out->dataItems = calloc(n ? n : 1, sizeof *out->dataItems);
    if (!out->dataItems) return -1;
    for (i = 0; i < n; i++) {
        const sgw_json* pair = &arr->items[i];
        const char* k = "";
        const char* v = "";
        if (pair->type == SGW_JARR && pair->n == 2) {
            if (pair->items[0].type == SGW_JSTR) k = pair->items[0].str;
            if (pair->items[1].type == SGW_JSTR) v = pair->items[1].str;
        }
        out->dataItems[i].paramName = u16(k);
        out->dataItems[i].paramValue = u16(v);
        out->len++;
    }
    return 0;
}

static void kv_free(struct ISC_KVParamList* kv) {
    long i;
    for (i = 0; i < kv->len; i++) {
        free(kv->dataItems[i].paramName);
        free(kv->dataItems[i].paramValue);
    }
    free(kv->dataItems);
}

static void str_list_free(struct ISC_StrParamList* l) {
    long i;
    for (i = 0; i < l->len; i++) free(l->dataItems[i]);
    free(l->dataItems);
    l->dataItems = NULL;
    l->len = 0;
}

static void str_list_of(char** items, size_t n, struct ISC_StrParamList* out) {
    size_t i;
    out->len = 0;
    out->dataItems = calloc(n ? n : 1, sizeof *out->dataItems);
    if (!out->dataItems) return;
    for (i = 0; i < n; i++) {
        out->dataItems[i] = u16(items[i]);
        out->len++;
    }
}

static char** strings_of(const sgw_json* arr, size_t n) {
    size_t i;
    char** out = calloc(n ? n : 1, sizeof *out);
    if (!out) return NULL;
    for (i = 0; i < n; i++)
        out[i] = strdup(arr && i < arr->n && arr->items[i].type == SGW_JSTR ? arr->items[i].str
                                                                            : "");
    return out;
}

static void free_strings(char** s, size_t n) {
    size_t i;
    if (!s) return;
    for (i = 0; i < n; i++) free(s[i]);
    free(s);
}

/* Delivers a command cache (names/descriptions UTF-8, statuses) and remembers it. */
static void deliver_cache(sgw_service* s, struct ISC_CLIENT_INTERFACE ci, char** names,
                          char** descs, const long* statuses, size_t n) {
    struct ISC_StrParamList ln, ld;
    struct ISC_LongParamList ls;
    str_list_of(names, n, &ln);
    str_list_of(descs, n, &ld);
    ls.dataItems = calloc(n ? n : 1, sizeof *ls.dataItems);
    ls.len = ls.dataItems ? (long)n : 0;
    if (ls.dataItems) memcpy(ls.dataItems, statuses, n * sizeof *statuses);
    if (ci.CacheCommandInformation) CacheCommandInformation_Helper(ci, &ln, &ld, &ls);
    str_list_free(&ln);
    str_list_free(&ld);
    free(ls.dataItems);
    (void)s;
}

static void remember_cache(sgw_service* s, const sgw_json* p) {
    const sgw_json* names = sgw_json_get(p, "commands");
    const sgw_json* descs = sgw_json_get(p, "descriptions");
    const sgw_json* stats = sgw_json_get(p, "statuses");
    size_t i, n = names && names->type == SGW_JARR ? names->n : 0;
    long* st = calloc(n ? n : 1, sizeof *st);
    char** nn = strings_of(names, n);
    char** dd = strings_of(descs, n);
    if (!st || !nn || !dd) { free(st); free_strings(nn, n); free_strings(dd, n); return; }
    for (i = 0; i < n; i++)
        st[i] = stats && stats->type == SGW_JARR && i < stats->n &&
                        stats->items[i].type == SGW_JNUM ? (long)stats->items[i].num : 0;
    sgw_lock(&g_lock);
    free_strings(s->cmd_names, s->ncmds);
    free_strings(s->cmd_descs, s->ncmds);
    free(s->cmd_status);
    s->cmd_names = nn;
    s->cmd_descs = dd;
    s->cmd_status = st;
    s->ncmds = n;
    sgw_unlock(&g_lock);
}

static void deliver_callback(sgw_service* s, struct ISC_CLIENT_INTERFACE ci, const sgw_json* msg) {
    const char* m = sgw_json_str(msg, "method");
    const sgw_json* p = sgw_json_get(msg, "params");
    ISC_STRING a = NULL, b = NULL, c = NULL, e = NULL;
    struct ISC_KVParamList kv = {NULL, 0};
    if (strcmp(m, "HandleEvent") == 0 && ci.HandleEvent) {
        const sgw_json* nwd = sgw_json_get(p, "notifyWhenDone");
        a = u16(str_of(p, "name"));
        b = u16(str_of(p, "trackingId"));
        if (kv_from_json(sgw_json_get(p, "fields"), &kv) == 0)
            HandleEvent_Helper(ci, a, &kv, (ISC_BOOLEAN)(nwd && nwd->type == SGW_JBOOL &&
                                                         nwd->boolean), b);
    } else if (strcmp(m, "HandleError") == 0 && ci.HandleError) {
        a = u16(str_of(p, "cmdTrackId"));
        b = u16(str_of(p, "error"));
        HandleError_Helper(ci, a, b);
    } else if (strcmp(m, "ShowStatusText") == 0 && ci.ShowStatusText) {
        a = u16(str_of(p, "text"));
        ShowStatusText_Helper(ci, a);
    } else if (strcmp(m, "CacheCommandInformation") == 0) {
        remember_cache(s, p);
        {
            const sgw_json* names = sgw_json_get(p, "commands");
            const sgw_json* descs = sgw_json_get(p, "descriptions");
            const sgw_json* stats = sgw_json_get(p, "statuses");
            size_t i, n = names && names->type == SGW_JARR ? names->n : 0;
            char** nn = strings_of(names, n);
            char** dd = strings_of(descs, n);
            long* st = calloc(n ? n : 1, sizeof *st);
            if (nn && dd && st) {
                for (i = 0; i < n; i++)
                    st[i] = stats && stats->type == SGW_JARR && i < stats->n &&
                                    stats->items[i].type == SGW_JNUM ? (long)stats->items[i].num
                                                                     : 0;
                deliver_cache(s, ci, nn, dd, st, n);
            }
            free_strings(nn, n);
            free_strings(dd, n);
            free(st);
        }
    } else if (strcmp(m, "UpdateObjectInformation") == 0 && ci.UpdateObjectInformation) {
        a = u16(str_of(p, "trackingId"));
        b = u16(str_of(p, "mediaTargetAddr"));
        if (kv_from_json(sgw_json_get(p, "info"), &kv) == 0)
            UpdateObjectInformation_Helper(ci, a, b, &kv);
    } else if (strcmp(m, "IndicateNewWorkItem") == 0 && ci.IndicateNewWorkItem) {
        a = u16(str_of(p, "trackingId"));
        b = u16(str_of(p, "oldTrackingId"));
        c = u16(str_of(p, "description"));
        IndicateNewWorkItem_Helper(ci, a, b, c,
                                   (enum SCWorkItemMode)sgw_json_long(p, "mode", SC_WM_INBOUND));
    } else if (strcmp(m, "WorkItemStarted") == 0 && ci.WorkItemStarted) {
        a = u16(str_of(p, "trackingId"));
        b = u16(str_of(p, "oldTrackingId"));
        c = u16(str_of(p, "description"));
        e = u16(str_of(p, "mediaTargetAddr"));
        WorkItemStarted_Helper(ci, a, b, c, e, (time_t)sgw_json_long(p, "startTime", 0));
    } else if (strcmp(m, "WorkItemReleased") == 0 && ci.WorkItemReleased) {
        a = u16(str_of(p, "trackingId"));
        WorkItemReleased_Helper(ci, a, (time_t)sgw_json_long(p, "stopTime", 0));
    } else if (strcmp(m, "WorkItemSuspended") == 0 && ci.WorkItemSuspended) {
        a = u16(str_of(p, "trackingId"));
        WorkItemSuspended_Helper(ci, a);
    } else if (strcmp(m, "WorkItemResumed") == 0 && ci.WorkItemResumed) {
        a = u16(str_of(p, "trackingId"));
        WorkItemResumed_Helper(ci, a);
    } else if (strcmp(m, "CleanAllWorkItem") == 0 && ci.CleanAllWorkItem) {
        CleanAllWorkItem_Helper(ci);
    } else if (strcmp(m, "BeginBatch") == 0 && ci.BeginBatch) {
        BeginBatch_Helper(ci);
    } else if (strcmp(m, "EndBatch") == 0 && ci.EndBatch) {
        EndBatch_Helper(ci);
    } else {
        sgw_log("ignored the unknown callback %s", m);
    }
    free(a);
    free(b);
    free(c);
    free(e);
    if (kv.dataItems) kv_free(&kv);
}

static void status_text(struct ISC_CLIENT_INTERFACE ci, const char* text) {
    ISC_STRING t = u16(text);
    if (ci.ShowStatusText) ShowStatusText_Helper(ci, t);
    free(t);
}

/* The gateway is gone: close an open batch, disable every command, say so. */
static void deliver_link_down(sgw_service* s, struct ISC_CLIENT_INTERFACE ci, int in_batch) {
    size_t i, n;
    char **nn = NULL, **dd = NULL;
    long* st = NULL;
    if (in_batch && ci.EndBatch) EndBatch_Helper(ci);
    sgw_lock(&g_lock);
    n = s->ncmds;
    if (n) {
        nn = calloc(n, sizeof *nn);
        dd = calloc(n, sizeof *dd);
        st = calloc(n, sizeof *st);
        for (i = 0; nn && dd && st && i < n; i++) {
            nn[i] = strdup(s->cmd_names[i]);
            dd[i] = strdup(s->cmd_descs[i]);
            st[i] = (s->cmd_status[i] & ~(long)(SC_CF_CHECKED | SC_CF_BLINKING)) | SC_CF_DISABLED;
        }
    }
    sgw_unlock(&g_lock);
    if (n && nn && dd && st) deliver_cache(s, ci, nn, dd, st, n);
    free_strings(nn, nn ? n : 0);
    free_strings(dd, dd ? n : 0);
    free(st);
    status_text(ci, LOST_TEXT);
}

static void deliver(sgw_driver* d, sgw_item* it) {
    sgw_service* s;
    struct ISC_CLIENT_INTERFACE ci;
    int in_batch, gone;
    const char* m = it->msg ? sgw_json_str(it->msg, "method") : NULL;
    sgw_lock(&g_lock);
    for (s = d->services; s; s = s->next)
        if (s->id == it->svc_id) break;
    if (!s) { /* released: nothing more for it */
        sgw_unlock(&g_lock);
        return;
    }
    s->busy++;
    ci = s->ci;
    in_batch = s->in_batch;
    if (m && strcmp(m, "BeginBatch") == 0) s->in_batch = 1;
    if ((m && strcmp(m, "EndBatch") == 0) || it->kind == SGW_LINK_DOWN) s->in_batch = 0;
    sgw_unlock(&g_lock);

    switch (it->kind) {
    case SGW_CALLBACK: deliver_callback(s, ci, it->msg); break;
    case SGW_LINK_DOWN: deliver_link_down(s, ci, in_batch); break;
    case SGW_LINK_UP: status_text(ci, BACK_TEXT); break;
    case SGW_STATUS: status_text(ci, it->text); break;
    case SGW_CLEAN_ALL:
        if (ci.CleanAllWorkItem) CleanAllWorkItem_Helper(ci);
        break;
    }

    sgw_lock(&g_lock);
    s->busy--; /* released meanwhile: unlisted, but alive until busy drops to 0 */
    gone = s->zombie && s->busy == 0;
    sgw_cond_broadcast(&g_cond);
    sgw_unlock(&g_lock);
    if (gone) sgw_service_free(s); /* released from inside its own callback */
}

void sgw_dispatch_loop(void* arg) {
    sgw_driver* d = arg;
    int free_driver = 0;
    d->dispatcher_id = sgw_thread_self();
    for (;;) {
        sgw_item* it;
        sgw_lock(&d->qlock);
        while (!d->qhead && !d->qstop) sgw_cond_wait(&d->qcond, &d->qlock);
        it = d->qhead;
        if (it && !d->qstop) {
            d->qhead = it->next;
            if (!d->qhead) d->qtail = NULL;
        } else {
            it = NULL;
        }
        sgw_unlock(&d->qlock);
        if (!it) break;
        deliver(d, it);
        sgw_json_free(it->msg);
        free(it->text);
        free(it);
        sgw_lock(&d->qlock);
        free_driver = d->qstop && d->free_on_exit;
        sgw_unlock(&d->qlock);
        if (free_driver) break;
    }
    sgw_lock(&d->qlock);
    while (d->qhead) {
        sgw_item* it = d->qhead;
        d->qhead = it->next;
        sgw_json_free(it->msg);
        free(it->text);
        free(it);
    }
    d->qtail = NULL;
    free_driver = d->free_on_exit;
    sgw_unlock(&d->qlock);
    if (free_driver) { /* released from one of its own callbacks: nobody joins us */
        sgw_thread_detach(d->dispatcher);
        sgw_driver_free(d);
    }
}
