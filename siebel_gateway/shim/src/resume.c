/* resume.c -- a new connection after a loss: ResumeDriverInstance with the session token
 * when the gateway gave one, else (or when the gateway does not know the method, or refuses)
 * the driver and its services created again with the same parameters.  Siebel's handles stay
 * the same either way: only the gateway strings behind them change. */
#include <stdlib.h>
#include <string.h>

#include "shim.h"

/* The ids of the driver's open services, and their count. */
static long* open_services(sgw_driver* d, size_t* n) {
    sgw_service* s;
    long* ids;
    size_t k = 0;
    sgw_lock(&g_lock);
    for (s = d->services; s; s = s->next) k++;
    ids = calloc(k ? k : 1, sizeof *ids);
    k = 0;
    for (s = d->services; ids && s; s = s->next) ids[k++] = s->id;
    sgw_unlock(&g_lock);
    *n = ids ? k : 0;
    return ids;
}

static sgw_service* find(sgw_driver* d, long id) {
    sgw_service* s;
    for (s = d->services; s; s = s->next)
        if (s->id == id) return s;
    return NULL;
}

/* Whether the resume answer lists the gateway handle gw (strings, or {"service": ...}). */
static int listed(const sgw_json* services, const char* gw) {
    size_t i;
    for (i = 0; services && services->type == SGW_JARR && i < services->n; i++) {
        const sgw_json* it = &services->items[i];
        const char* h = it->type == SGW_JSTR ? it->str : sgw_json_str(it, "service");
        if (h && gw && strcmp(h, gw) == 0) return 1;
    }
    return 0;
}

/* Creates again, on the gateway, every open service not in keep (NULL: all of them). */
static int recreate_services(sgw_driver* d, const sgw_json* keep, int clean) {
    size_t i, n;
    long* ids = open_services(d, &n);
    char* gw_driver;
    int failed = 0;
    sgw_lock(&g_lock);
    gw_driver = d->gw ? strdup(d->gw) : NULL;
    sgw_unlock(&g_lock);
    if (!ids || !gw_driver) { free(ids); free(gw_driver); return -1; }
    for (i = 0; i < n && !failed; i++) {
        sgw_service* s;
        int again;
        sgw_lock(&g_lock);
        s = find(d, ids[i]);
        again = s && !(keep && listed(keep, s->gw));
        if (again) { /* callbacks for the old handle must not reach it meanwhile */
            free(s->gw);
            s->gw = NULL;
            s->busy++;
        }
        sgw_unlock(&g_lock);
        if (!again) continue;
        /* the old work items are gone with the old session */
        if (clean) sgw_enqueue(d, ids[i], SGW_CLEAN_ALL, NULL, NULL);
        if (sgw_create_service(d, s, gw_driver, sgw_request_direct) != SC_EC_OK) failed = 1;
        sgw_lock(&g_lock);
        s->busy--;
        sgw_cond_broadcast(&g_cond);
        sgw_unlock(&g_lock);
        if (!failed && clean)
            sgw_enqueue(d, ids[i], SGW_STATUS, NULL,
                        "Reconnected to the Siebel gateway as a new session: log in again");
    }
    free(ids);
    free(gw_driver);
    return failed ? -1 : 0;
}

int sgw_resume(sgw_driver* d) {
    char* session;
    char* gw;
    sgw_lock(&g_lock);
    session = d->session ? strdup(d->session) : NULL;
    gw = d->gw ? strdup(d->gw) : NULL;
    sgw_unlock(&g_lock);
    if (session && gw) {
        sgw_buf b;
        sgw_json* reply = NULL;
        ISC_RESULT code;
        sgw_buf_init(&b);
        sgw_buf_raw(&b, "{\"driver\":");
        sgw_buf_str(&b, gw);
        sgw_buf_raw(&b, ",\"session\":");
        sgw_buf_str(&b, session);
        sgw_buf_raw(&b, "}");
        code = b.ok ? sgw_request_direct(d, "ResumeDriverInstance", b.buf, &reply, NULL)
                    : SC_EC_OUT_OF_MEMORY;
        sgw_buf_free(&b);
        if (code == SC_EC_NETWORK_ERROR && !reply) {
            free(session);
            free(gw);
            return -1; /* no answer: try again on another connection */
        }
        if (code == SC_EC_OK) {
            int rc = recreate_services(d, sgw_json_get(sgw_result(reply), "services"), 1);
            sgw_json_free(reply);
            free(session);
            if (rc != 0) { free(gw); return -1; }
            sgw_log("driver %s resumed on the new connection (ResumeDriverInstance)", gw);
            free(gw);
            goto restored;
        }
        sgw_log("ResumeDriverInstance was not accepted; creating the driver again");
        sgw_json_free(reply);
    }
    free(session);
    free(gw);
    if (sgw_create_driver(d, sgw_request_direct) != SC_EC_OK) return -1;
    if (recreate_services(d, NULL, 1) != 0) return -1;
restored:
    return 0;
}

void sgw_on_up(sgw_driver* d) {
    size_t i, n;
    long* ids = open_services(d, &n);
    for (i = 0; ids && i < n; i++) sgw_enqueue(d, ids[i], SGW_LINK_UP, NULL, NULL);
    free(ids);
}
