/* shim.h -- the shim's internal model: drivers (one gateway connection each), services,
 * the callback queue, and the functions conn.c and shim.c share. */
#ifndef SGW_SHIM_H
#define SGW_SHIM_H

#ifdef SGW_REAL_SCAPI
#include "scapi.h"
#else
#include "scapi_compat.h"
#endif

#include <stddef.h>

#include "json.h"
#include "plat.h"

typedef struct {
    char* k;
    char* v;
} sgw_kv; /* UTF-8 */

enum sgw_state { SGW_DOWN, SGW_RESUMING, SGW_UP, SGW_CLOSING };

/* What the dispatcher delivers: a gateway callback, or one of the shim's own. */
enum sgw_item_kind { SGW_CALLBACK, SGW_LINK_DOWN, SGW_LINK_UP, SGW_CLEAN_ALL, SGW_STATUS };

typedef struct sgw_item {
    struct sgw_item* next;
    long svc_id;
    enum sgw_item_kind kind;
    sgw_json* msg; /* SGW_CALLBACK: the whole notification */
    char* text;    /* SGW_STATUS */
} sgw_item;

typedef struct sgw_pending {
    struct sgw_pending* next;
    long id;
    int done;
    sgw_json* reply; /* NULL when done without an answer (connection lost) */
    struct sgw_service* svc; /* RequestService: bound to its gateway handle on arrival */
} sgw_pending;

typedef struct sgw_service {
    struct sgw_service* next;
    struct sgw_driver* drv;
    long id; /* never reused: the dispatcher finds services by it */
    char* gw; /* the gateway's handle string */
    struct ISC_CLIENT_INTERFACE ci;
    char* connect;
    sgw_kv* params;
    size_t nparams;
    int busy;     /* a callback is running (or the reconnect is re-creating it) */
    int zombie;   /* released from inside its own callback: freed when busy drops to 0 */
    int in_batch; /* BeginBatch delivered, EndBatch not yet */
    /* the last command cache, to disable it when the gateway is lost */
    char** cmd_names;
    char** cmd_descs;
    long* cmd_status;
    size_t ncmds;
} sgw_service;

typedef struct sgw_driver {
    struct sgw_driver* next;
    char* media;
    char* lang;
    char* connect;
    sgw_kv* params;
    size_t nparams;
    char* gw;      /* the gateway's driver handle (guarded by g_lock) */
    char* session; /* ResumeDriverInstance token, when the gateway gave one */
    sgw_service* services;

    /* configuration */
    char** hosts;
    char** ports;
    size_t naddr;
    size_t cur; /* the address in use / tried next */
    int request_timeout_ms;
    int connect_timeout_ms;
    int tls;       /* GatewayTls */
    char* ca_file; /* GatewayCaFile */
    void* ssl;     /* the connection's SSL object (tls.c) */
    sgw_mutex tls_lock;

    /* the connection */
    sgw_mutex lock; /* state, pending, next_id */
    sgw_cond cond;
    sgw_mutex wlock; /* writes and the socket's life */
    sgw_sock sock;
    enum sgw_state state;
    long next_id;
    sgw_pending* pending;
    char* rbuf;
    size_t rlen, rcap;
    int discarding; /* skipping the rest of an over-long line */
    sgw_thread reader;
    sgw_thread_id reader_id;

    /* the callback queue */
    sgw_mutex qlock;
    sgw_cond qcond;
    sgw_item* qhead;
    sgw_item* qtail;
    int qstop;
    int free_on_exit; /* released from inside a callback: the dispatcher frees the driver */
    sgw_thread dispatcher;
    sgw_thread_id dispatcher_id;
} sgw_driver;

/* shim.c: the registry lock and what the connection reports. */
extern sgw_mutex g_lock;
extern sgw_cond g_cond;
void sgw_log(const char* fmt, ...);
void sgw_enqueue(sgw_driver* d, long svc_id, enum sgw_item_kind kind, sgw_json* msg,
                 const char* text);
/* A callback line from the gateway: routed to its service (or dropped with a log line). */
void sgw_on_callback(sgw_driver* d, sgw_json* msg);
/* Re-establishes the driver and services on a fresh connection (reader thread); 0 when done. */
int sgw_resume(sgw_driver* d);
void sgw_on_down(sgw_driver* d);
/* The connection is usable again: each service is told (after requests work again). */
void sgw_on_up(sgw_driver* d);
void sgw_driver_free(sgw_driver* d);
void sgw_service_free(sgw_service* s);

typedef ISC_RESULT (*request_fn)(sgw_driver*, const char*, const char*, sgw_json**,
                                  sgw_service*);
/* CreateISCDriverInstance on the gateway with the driver's parameters: sets d->gw, d->session. */
ISC_RESULT sgw_create_driver(sgw_driver* d, request_fn req);
/* RequestService on the gateway for s under gw_driver (a copy of d->gw): sets s->gw. */
ISC_RESULT sgw_create_service(sgw_driver* d, sgw_service* s, const char* gw_driver,
                              request_fn req);
char* sgw_service_params(const char* gw_driver, const sgw_service* s);

/* conn.c */
int sgw_conn_open(sgw_driver* d, char* err, size_t errlen);
int sgw_conn_start(sgw_driver* d);
/* Sends one request and waits for its result (at most request_timeout_ms).  Returns the
 * ISC_RESULT; *reply (when not NULL) gets the result object's document on success. */
ISC_RESULT sgw_request(sgw_driver* d, const char* method, const char* params_json,
                       sgw_json** reply);
/* The same for RequestService: svc gets the gateway's handle as the result line is read, so
 * the callbacks right behind it find the service. */
ISC_RESULT sgw_request_ex(sgw_driver* d, const char* method, const char* params_json,
                          sgw_json** reply, sgw_service* svc);
/* The same from the reader thread while resuming: reads and dispatches lines itself. */
ISC_RESULT sgw_request_direct(sgw_driver* d, const char* method, const char* params_json,
                              sgw_json** reply, sgw_service* svc);
/* The result object of a reply document (or NULL). */
const sgw_json* sgw_result(const sgw_json* reply);
void sgw_conn_stop(sgw_driver* d);
void sgw_dispatch_loop(void* arg);

#endif
