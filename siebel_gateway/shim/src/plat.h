/* plat.h -- threads, locks, clocks and sockets for POSIX and Windows (mingw-w64). */
#ifndef SGW_PLAT_H
#define SGW_PLAT_H

#include <stddef.h>
#include <stdint.h>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
typedef SOCKET sgw_sock;
#define SGW_BAD_SOCK INVALID_SOCKET
typedef CRITICAL_SECTION sgw_mutex;
typedef CONDITION_VARIABLE sgw_cond;
typedef HANDLE sgw_thread;
typedef DWORD sgw_thread_id;
#else
#include <pthread.h>
typedef int sgw_sock;
#define SGW_BAD_SOCK (-1)
typedef pthread_mutex_t sgw_mutex;
typedef pthread_cond_t sgw_cond;
typedef pthread_t sgw_thread;
typedef pthread_t sgw_thread_id;
#endif

void sgw_mutex_init(sgw_mutex* m);
void sgw_mutex_destroy(sgw_mutex* m);
void sgw_lock(sgw_mutex* m);
void sgw_unlock(sgw_mutex* m);
void sgw_cond_init(sgw_cond* c);
void sgw_cond_destroy(sgw_cond* c);
void sgw_cond_broadcast(sgw_cond* c);
void sgw_cond_wait(sgw_cond* c, sgw_mutex* m);
/* Waits at most until the monotonic deadline (milliseconds); 0 when it passed. */
int sgw_cond_wait_until(sgw_cond* c, sgw_mutex* m, int64_t deadline_ms);

int sgw_thread_start(sgw_thread* t, void (*fn)(void*), void* arg);
void sgw_thread_join(sgw_thread t);
void sgw_thread_detach(sgw_thread t);
sgw_thread_id sgw_thread_self(void);
int sgw_thread_is(sgw_thread_id a, sgw_thread_id b);

int64_t sgw_now_ms(void);
void sgw_sleep_ms(int64_t ms);

int sgw_net_init(void);
/* Connects to host:port within timeout_ms; SGW_BAD_SOCK on failure (errbuf says why). */
sgw_sock sgw_connect(const char* host, const char* port, int timeout_ms, char* errbuf,
                     size_t errlen);
/* send() that never raises SIGPIPE; returns bytes sent or -1. */
long sgw_send(sgw_sock s, const char* buf, size_t len);
long sgw_recv(sgw_sock s, char* buf, size_t len);
/* Waits until s is readable (for_write 0) or writable (1): 1 ready, 0 time-out, -1 error;
 * timeout_ms -1 waits without limit. */
int sgw_wait_io(sgw_sock s, int for_write, int timeout_ms);
int sgw_set_blocking(sgw_sock s, int blocking);
void sgw_shutdown(sgw_sock s);
void sgw_close(sgw_sock s);

#endif
