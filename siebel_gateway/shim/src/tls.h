/* tls.h -- the bytes of a gateway connection, over TCP or (built with OpenSSL) over TLS. */
#ifndef SGW_TLS_H
#define SGW_TLS_H

#include <stddef.h>

struct sgw_driver;

/* After the TCP connect (d->sock): the TLS handshake when GatewayTls is on; 0 when done. */
int sgw_io_open(struct sgw_driver* d, const char* host, char* err, size_t errlen);
/* Sends everything (callers hold d->wlock); -1 when the connection failed. */
int sgw_io_send(struct sgw_driver* d, const char* buf, size_t len);
/* Waits up to wait_ms (-1: no limit) and reads; >0 bytes, 0 nothing yet, -1 closed/failed. */
long sgw_io_recv(struct sgw_driver* d, char* buf, size_t len, int wait_ms);
/* Forgets the TLS session of a dropped connection. */
void sgw_io_drop(struct sgw_driver* d);
/* Whether this build can speak TLS. */
int sgw_io_tls_available(void);

#endif
