/* tls.c -- TCP or TLS bytes for a gateway connection.  With OpenSSL (SGW_WITH_OPENSSL) the
 * socket is non-blocking and every SSL call holds d->tls_lock, so the reader thread and the
 * request threads never use the SSL object at the same time. */
#include "tls.h"

#include <stdio.h>

#include "shim.h"

static int plain_send(struct sgw_driver* d, const char* buf, size_t len) {
    while (len > 0) {
        long n = sgw_send(d->sock, buf, len);
        if (n <= 0) return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static long plain_recv(struct sgw_driver* d, char* buf, size_t len, int wait_ms) {
    long n;
    if (wait_ms >= 0) {
        int r = sgw_wait_io(d->sock, 0, wait_ms);
        if (r <= 0) return r;
    }
    n = sgw_recv(d->sock, buf, len);
    return n > 0 ? n : -1;
}

#ifdef SGW_WITH_OPENSSL
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <time.h>

int sgw_io_tls_available(void) { return 1; }

/* OpenSSL writes with write(): a gateway that has gone would raise SIGPIPE and kill the
 * Siebel process.  Around every SSL call SIGPIPE is blocked for this thread only, and one it
 * caused is taken back before unblocking (the process's own handling is left alone). */
typedef struct {
#ifndef _WIN32
    sigset_t old;
#endif
    int was_pending;
} nopipe;

#ifdef _WIN32
static void nopipe_begin(nopipe* np) { (void)np; }
static void nopipe_end(nopipe* np) { (void)np; }
#else
static void nopipe_begin(nopipe* np) {
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigpending(&pending);
    np->was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, &np->old);
}

static void nopipe_end(nopipe* np) {
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    if (!np->was_pending) {
        sigpending(&pending);
        if (sigismember(&pending, SIGPIPE)) {
            struct timespec zero = {0, 0};
            sigtimedwait(&set, NULL, &zero);
        }
    }
    pthread_sigmask(SIG_SETMASK, &np->old, NULL);
}
#endif

static void ssl_error(char* err, size_t errlen, const char* what) {
    unsigned long e = ERR_get_error();
    char text[200] = "";
    if (e) ERR_error_string_n(e, text, sizeof text);
    snprintf(err, errlen, "%s%s%s", what, *text ? ": " : "", text);
}

int sgw_io_open(struct sgw_driver* d, const char* host, char* err, size_t errlen) {
    SSL_CTX* ctx;
    SSL* ssl;
    int64_t deadline;
    if (!d->tls) return 0;
    ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) { ssl_error(err, errlen, "TLS setup failed"); return -1; }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (d->ca_file && *d->ca_file ? SSL_CTX_load_verify_locations(ctx, d->ca_file, NULL) != 1
                                  : SSL_CTX_set_default_verify_paths(ctx) != 1) {
        ssl_error(err, errlen, "cannot read GatewayCaFile");
        SSL_CTX_free(ctx);
        return -1;
    }
    ssl = SSL_new(ctx);
    SSL_CTX_free(ctx); /* the SSL keeps its own reference */
    if (!ssl) { ssl_error(err, errlen, "TLS setup failed"); return -1; }
    SSL_set_tlsext_host_name(ssl, host);
    SSL_set1_host(ssl, host); /* the certificate must name the GatewayAddress host */
    SSL_set_fd(ssl, (int)d->sock);
    sgw_set_blocking(d->sock, 0);
    deadline = sgw_now_ms() + d->connect_timeout_ms;
    for (;;) {
        nopipe np;
        int r, e;
        int64_t left;
        nopipe_begin(&np);
        r = SSL_connect(ssl);
        nopipe_end(&np);
        if (r == 1) break;
        e = SSL_get_error(ssl, r);
        left = deadline - sgw_now_ms();
        if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) && left > 0) {
            sgw_wait_io(d->sock, e == SSL_ERROR_WANT_WRITE, (int)left);
            continue;
        }
        if (SSL_get_verify_result(ssl) != X509_V_OK)
            snprintf(err, errlen, "the gateway's certificate is not trusted: %s",
                     X509_verify_cert_error_string(SSL_get_verify_result(ssl)));
        else
            ssl_error(err, errlen, left > 0 ? "TLS handshake failed" : "TLS handshake timed out");
        SSL_free(ssl);
        return -1;
    }
    d->ssl = ssl;
    return 0;
}

int sgw_io_send(struct sgw_driver* d, const char* buf, size_t len) {
    SSL* ssl = d->ssl;
    if (!d->tls) return plain_send(d, buf, len);
    while (len > 0) {
        int n, e;
        nopipe np;
        sgw_lock(&d->tls_lock);
        nopipe_begin(&np);
        n = SSL_write(ssl, buf, (int)len);
        e = n > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl, n);
        nopipe_end(&np);
        sgw_unlock(&d->tls_lock);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
        } else if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
            sgw_wait_io(d->sock, e == SSL_ERROR_WANT_WRITE, 50);
        } else {
            return -1;
        }
    }
    return 0;
}

long sgw_io_recv(struct sgw_driver* d, char* buf, size_t len, int wait_ms) {
    int64_t deadline = wait_ms < 0 ? 0 : sgw_now_ms() + wait_ms;
    if (!d->tls) return plain_recv(d, buf, len, wait_ms);
    for (;;) {
        int n, e;
        nopipe np;
        sgw_lock(&d->tls_lock);
        nopipe_begin(&np);
        n = SSL_read(d->ssl, buf, (int)len);
        e = n > 0 ? SSL_ERROR_NONE : SSL_get_error(d->ssl, n);
        nopipe_end(&np);
        sgw_unlock(&d->tls_lock);
        if (n > 0) return n;
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) return -1;
        if (wait_ms < 0) {
            if (sgw_wait_io(d->sock, e == SSL_ERROR_WANT_WRITE, -1) < 0) return -1;
        } else {
            int64_t left = deadline - sgw_now_ms();
            if (left <= 0) return 0;
            if (sgw_wait_io(d->sock, e == SSL_ERROR_WANT_WRITE, (int)left) < 0) return -1;
        }
    }
}

void sgw_io_drop(struct sgw_driver* d) {
    if (d->ssl) {
        SSL_free(d->ssl);
        d->ssl = NULL;
    }
}

#else /* no OpenSSL in this build */

int sgw_io_tls_available(void) { return 0; }

int sgw_io_open(struct sgw_driver* d, const char* host, char* err, size_t errlen) {
    (void)host;
    if (!d->tls) return 0;
    snprintf(err, errlen, "GatewayTls is TRUE but this build has no TLS (build it with OpenSSL)");
    return -1;
}

int sgw_io_send(struct sgw_driver* d, const char* buf, size_t len) {
    return plain_send(d, buf, len);
}

long sgw_io_recv(struct sgw_driver* d, char* buf, size_t len, int wait_ms) {
    return plain_recv(d, buf, len, wait_ms);
}

void sgw_io_drop(struct sgw_driver* d) { (void)d; }

#endif
