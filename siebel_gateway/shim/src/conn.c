/* conn.c -- one gateway connection per driver instance: connecting (addresses in order),
 * the reader thread, requests matched to results by id, time-outs, reconnects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shim.h"
#include "tls.h"

#define MAX_LINE (16L * 1024 * 1024)
#define BACKOFF_FIRST_MS 200
#define BACKOFF_MAX_MS 5000

/* Tries every address once, starting at d->cur; 0 when connected. */
static int try_addresses(sgw_driver* d, char* err, size_t errlen) {
    size_t k;
    for (k = 0; k < d->naddr; k++) {
        size_t i = (d->cur + k) % d->naddr;
        sgw_sock s = sgw_connect(d->hosts[i], d->ports[i], d->connect_timeout_ms, err, errlen);
        if (s != SGW_BAD_SOCK) {
            sgw_lock(&d->wlock);
            d->sock = s;
            if (sgw_io_open(d, d->hosts[i], err, errlen) != 0) {
                sgw_close(s);
                d->sock = SGW_BAD_SOCK;
                sgw_unlock(&d->wlock);
                sgw_log("%s:%s: %s", d->hosts[i], d->ports[i], err);
                continue;
            }
            sgw_unlock(&d->wlock);
            d->cur = i;
            d->rlen = 0;
            d->discarding = 0;
            sgw_log("connected to the gateway at %s:%s", d->hosts[i], d->ports[i]);
            return 0;
        }
        sgw_log("%s", err);
    }
    return -1;
}

int sgw_conn_open(sgw_driver* d, char* err, size_t errlen) {
    if (try_addresses(d, err, errlen) != 0) return -1;
    sgw_lock(&d->lock);
    d->state = SGW_UP;
    sgw_unlock(&d->lock);
    return 0;
}

/* Ends every waiting request without an answer. */
static void fail_pending(sgw_driver* d) {
    sgw_pending* p;
    sgw_lock(&d->lock);
    for (p = d->pending; p; p = p->next) p->done = 1;
    sgw_cond_broadcast(&d->cond);
    sgw_unlock(&d->lock);
}

static void drop_socket(sgw_driver* d) {
    sgw_lock(&d->wlock);
    if (d->sock != SGW_BAD_SOCK) {
        sgw_io_drop(d);
        sgw_close(d->sock);
        d->sock = SGW_BAD_SOCK;
    }
    sgw_unlock(&d->wlock);
}

static int write_all(sgw_driver* d, const char* buf, size_t len) {
    int ok = 1;
    sgw_lock(&d->wlock);
    if (d->sock == SGW_BAD_SOCK) ok = 0;
    if (ok && sgw_io_send(d, buf, len) != 0) {
        ok = 0;
        sgw_shutdown(d->sock); /* the reader sees it and reconnects */
    }
    sgw_unlock(&d->wlock);
    return ok ? 0 : -1;
}

static char* request_line(long id, const char* method, const char* params_json) {
    sgw_buf b;
    sgw_buf_init(&b);
    sgw_buf_raw(&b, "{\"jsonrpc\":\"2.0\",\"id\":");
    sgw_buf_long(&b, id);
    sgw_buf_raw(&b, ",\"method\":");
    sgw_buf_str(&b, method);
    sgw_buf_raw(&b, ",\"params\":");
    sgw_buf_raw(&b, params_json);
    sgw_buf_raw(&b, "}\n");
    if (!b.ok) { sgw_buf_free(&b); return NULL; }
    return b.buf;
}

const sgw_json* sgw_result(const sgw_json* reply) {
    const sgw_json* r = sgw_json_get(reply, "result");
    return r && r->type == SGW_JOBJ ? r : NULL;
}

/* The ISC_RESULT a reply document carries. */
static ISC_RESULT reply_code(const char* method, const sgw_json* reply) {
    const sgw_json* r = sgw_result(reply);
    const sgw_json* e = sgw_json_get(reply, "error");
    if (r) {
        long code = sgw_json_long(r, "code", SC_EC_ERROR);
        if (code != 0) {
            const char* text = sgw_json_str(r, "error");
            sgw_log("%s: code %ld: %s", method, code, text ? text : "(no text)");
        }
        return (ISC_RESULT)code;
    }
    if (e) {
        const char* text = sgw_json_str(e, "message");
        sgw_log("%s: the gateway refused the request (%ld): %s", method,
                sgw_json_long(e, "code", 0), text ? text : "(no text)");
    } else {
        sgw_log("%s: the answer has neither result nor error", method);
    }
    return SC_EC_ERROR;
}

ISC_RESULT sgw_request(sgw_driver* d, const char* method, const char* params_json,
                       sgw_json** reply) {
    return sgw_request_ex(d, method, params_json, reply, NULL);
}

/* A RequestService result names the service's gateway handle: record it at once. */
static void bind_service(sgw_service* svc, const sgw_json* msg) {
    const char* gw = sgw_json_str(sgw_result(msg), "service");
    if (!svc || !gw || sgw_json_long(sgw_result(msg), "code", 1) != 0) return;
    sgw_lock(&g_lock);
    free(svc->gw);
    svc->gw = strdup(gw);
    sgw_unlock(&g_lock);
}

ISC_RESULT sgw_request_ex(sgw_driver* d, const char* method, const char* params_json,
                          sgw_json** reply, sgw_service* svc) {
    sgw_pending me, **pp;
    char* line;
    int64_t deadline;
    ISC_RESULT code;
    if (reply) *reply = NULL;
    memset(&me, 0, sizeof me);
    me.svc = svc;
    sgw_lock(&d->lock);
    if (d->state != SGW_UP) {
        sgw_unlock(&d->lock);
        return SC_EC_NETWORK_ERROR; /* disconnected: refused at once */
    }
    me.id = ++d->next_id;
    me.next = d->pending;
    d->pending = &me;
    sgw_unlock(&d->lock);

    line = request_line(me.id, method, params_json);
    deadline = sgw_now_ms() + d->request_timeout_ms;
    if (!line || write_all(d, line, strlen(line)) != 0) {
        sgw_lock(&d->lock);
        me.done = 1;
    } else {
        sgw_lock(&d->lock);
        while (!me.done && sgw_cond_wait_until(&d->cond, &d->lock, deadline)) {}
        if (!me.done) sgw_log("%s: no answer within %d ms", method, d->request_timeout_ms);
    }
    for (pp = &d->pending; *pp; pp = &(*pp)->next)
        if (*pp == &me) { *pp = me.next; break; }
    sgw_unlock(&d->lock);
    free(line);
    if (!me.reply) return line ? SC_EC_NETWORK_ERROR : SC_EC_OUT_OF_MEMORY;
    code = reply_code(method, me.reply);
    if (reply && code == 0) *reply = me.reply;
    else sgw_json_free(me.reply);
    return code;
}

/* A result line: hands it to the request waiting for its id (a late one is dropped). */
static void on_result(sgw_driver* d, sgw_json* msg) {
    const sgw_json* id = sgw_json_get(msg, "id");
    sgw_pending* p;
    sgw_lock(&d->lock);
    for (p = d->pending; p; p = p->next) {
        if (id && id->type == SGW_JNUM && (long)id->num == p->id && !p->done) {
            bind_service(p->svc, msg);
            p->reply = msg;
            p->done = 1;
            sgw_cond_broadcast(&d->cond);
            sgw_unlock(&d->lock);
            return;
        }
    }
    sgw_unlock(&d->lock);
    sgw_log("dropped an answer nobody waits for (late, after the request timed out)");
    sgw_json_free(msg);
}

/* One complete line; returns the document when its id is want_id (direct requests). */
static sgw_json* on_line(sgw_driver* d, const char* line, size_t len, long want_id,
                         sgw_service* svc) {
    sgw_json* msg;
    const sgw_json* id;
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ')) len--;
    if (len == 0) return NULL;
    msg = sgw_json_parse(line, len);
    if (!msg || msg->type != SGW_JOBJ) {
        sgw_log("ignored a line from the gateway that is not a JSON object");
        sgw_json_free(msg);
        return NULL;
    }
    if (sgw_json_get(msg, "method")) {
        sgw_on_callback(d, msg);
        return NULL;
    }
    id = sgw_json_get(msg, "id");
    if (want_id && id && id->type == SGW_JNUM && (long)id->num == want_id) {
        bind_service(svc, msg);
        return msg;
    }
    on_result(d, msg);
    return NULL;
}

/* Reads once (waiting at most wait_ms, -1 = no limit) and handles every complete line.
 * Returns -1 when the connection ended, else 0; *found gets the want_id document. */
static int read_some(sgw_driver* d, int wait_ms, long want_id, sgw_service* svc,
                     sgw_json** found) {
    long n;
    size_t start = 0, i;
    if (d->rcap - d->rlen < 65536) {
        size_t ncap = d->rcap ? d->rcap * 2 : 131072;
        char* nb = realloc(d->rbuf, ncap);
        if (!nb) return -1;
        d->rbuf = nb;
        d->rcap = ncap;
    }
    n = sgw_io_recv(d, d->rbuf + d->rlen, d->rcap - d->rlen, wait_ms);
    if (n < 0) return -1;
    if (n == 0) return 0;
    d->rlen += (size_t)n;
    for (i = 0; i < d->rlen; i++) {
        if (d->rbuf[i] != '\n') continue;
        if (d->discarding) d->discarding = 0;
        else {
            sgw_json* doc = on_line(d, d->rbuf + start, i - start, want_id, svc);
            if (doc) {
                if (found && !*found) *found = doc;
                else sgw_json_free(doc);
            }
        }
        start = i + 1;
    }
    memmove(d->rbuf, d->rbuf + start, d->rlen - start);
    d->rlen -= start;
    if (d->rlen > (size_t)MAX_LINE) {
        sgw_log("dropped a line longer than %ld bytes from the gateway", MAX_LINE);
        d->rlen = 0;
        d->discarding = 1;
    }
    return 0;
}

ISC_RESULT sgw_request_direct(sgw_driver* d, const char* method, const char* params_json,
                              sgw_json** reply, sgw_service* svc) {
    long id;
    char* line;
    sgw_json* found = NULL;
    int64_t deadline;
    ISC_RESULT code;
    *reply = NULL;
    sgw_lock(&d->lock);
    id = ++d->next_id;
    sgw_unlock(&d->lock);
    line = request_line(id, method, params_json);
    if (!line) return SC_EC_OUT_OF_MEMORY;
    if (write_all(d, line, strlen(line)) != 0) { free(line); return SC_EC_NETWORK_ERROR; }
    free(line);
    deadline = sgw_now_ms() + d->request_timeout_ms;
    while (!found) {
        int64_t left = deadline - sgw_now_ms();
        if (left <= 0) break;
        if (read_some(d, (int)left, id, svc, &found) != 0) {
            sgw_log("%s: the connection closed before the answer", method);
            return SC_EC_NETWORK_ERROR;
        }
    }
    if (!found) {
        sgw_log("%s: no answer within %d ms", method, d->request_timeout_ms);
        return SC_EC_NETWORK_ERROR;
    }
    code = reply_code(method, found);
    *reply = found;
    return code;
}

static int closing(sgw_driver* d) {
    int c;
    sgw_lock(&d->lock);
    c = d->state == SGW_CLOSING;
    sgw_unlock(&d->lock);
    return c;
}

static void set_state(sgw_driver* d, enum sgw_state s) {
    sgw_lock(&d->lock);
    if (d->state != SGW_CLOSING) d->state = s;
    sgw_unlock(&d->lock);
}

/* Sleeps ms unless the driver is being released. */
static void backoff_sleep(sgw_driver* d, int ms) {
    int64_t deadline = sgw_now_ms() + ms;
    sgw_lock(&d->lock);
    while (d->state != SGW_CLOSING && sgw_cond_wait_until(&d->cond, &d->lock, deadline)) {}
    sgw_unlock(&d->lock);
}

static void reader_loop(void* arg) {
    sgw_driver* d = arg;
    int backoff = BACKOFF_FIRST_MS;
    char err[256];
    d->reader_id = sgw_thread_self();
    for (;;) {
        if (closing(d)) break;
        if (d->sock == SGW_BAD_SOCK) {
            if (try_addresses(d, err, sizeof err) != 0) {
                backoff_sleep(d, backoff);
                backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
                continue;
            }
            set_state(d, SGW_RESUMING);
            if (sgw_resume(d) != 0) {
                sgw_log("resuming on the new connection failed; trying again");
                set_state(d, SGW_DOWN);
                drop_socket(d);
                d->cur = (d->cur + 1) % d->naddr;
                backoff_sleep(d, backoff);
                continue;
            }
            backoff = BACKOFF_FIRST_MS;
            set_state(d, SGW_UP);
            sgw_on_up(d);
            continue;
        }
        if (read_some(d, -1, 0, NULL, NULL) != 0) {
            if (closing(d)) break;
            sgw_log("lost the connection to the gateway at %s:%s", d->hosts[d->cur],
                    d->ports[d->cur]);
            set_state(d, SGW_DOWN);
            drop_socket(d);
            fail_pending(d);
            sgw_on_down(d);
            d->cur = (d->cur + 1) % d->naddr; /* the next address first */
        }
    }
    drop_socket(d);
    fail_pending(d);
}

int sgw_conn_start(sgw_driver* d) {
    if (sgw_thread_start(&d->dispatcher, sgw_dispatch_loop, d) != 0) return -1;
    if (sgw_thread_start(&d->reader, reader_loop, d) != 0) {
        sgw_lock(&d->qlock);
        d->qstop = 1;
        sgw_cond_broadcast(&d->qcond);
        sgw_unlock(&d->qlock);
        sgw_thread_join(d->dispatcher);
        return -1;
    }
    return 0;
}

void sgw_conn_stop(sgw_driver* d) {
    sgw_lock(&d->lock);
    d->state = SGW_CLOSING;
    sgw_cond_broadcast(&d->cond);
    sgw_unlock(&d->lock);
    sgw_lock(&d->wlock);
    if (d->sock != SGW_BAD_SOCK) sgw_shutdown(d->sock);
    sgw_unlock(&d->wlock);
    sgw_thread_join(d->reader);
    sgw_lock(&d->qlock);
    d->qstop = 1;
    sgw_cond_broadcast(&d->qcond);
    sgw_unlock(&d->qlock);
}
