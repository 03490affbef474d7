/* plat.c -- the platform layer behind plat.h. */
#include "plat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32

void sgw_mutex_init(sgw_mutex* m) { InitializeCriticalSection(m); }
void sgw_mutex_destroy(sgw_mutex* m) { DeleteCriticalSection(m); }
void sgw_lock(sgw_mutex* m) { EnterCriticalSection(m); }
void sgw_unlock(sgw_mutex* m) { LeaveCriticalSection(m); }
void sgw_cond_init(sgw_cond* c) { InitializeConditionVariable(c); }
void sgw_cond_destroy(sgw_cond* c) { (void)c; }
void sgw_cond_broadcast(sgw_cond* c) { WakeAllConditionVariable(c); }
void sgw_cond_wait(sgw_cond* c, sgw_mutex* m) { SleepConditionVariableCS(c, m, INFINITE); }

int sgw_cond_wait_until(sgw_cond* c, sgw_mutex* m, int64_t deadline_ms) {
    int64_t left = deadline_ms - sgw_now_ms();
    if (left <= 0) return 0;
    SleepConditionVariableCS(c, m, (DWORD)left);
    return sgw_now_ms() < deadline_ms;
}

struct start_box { void (*fn)(void*); void* arg; };

static DWORD WINAPI thread_main(LPVOID p) {
    struct start_box box = *(struct start_box*)p;
    free(p);
    box.fn(box.arg);
    return 0;
}

int sgw_thread_start(sgw_thread* t, void (*fn)(void*), void* arg) {
    struct start_box* box = malloc(sizeof *box);
    if (!box) return -1;
    box->fn = fn;
    box->arg = arg;
    *t = CreateThread(NULL, 0, thread_main, box, 0, NULL);
    if (!*t) { free(box); return -1; }
    return 0;
}

void sgw_thread_join(sgw_thread t) { WaitForSingleObject(t, INFINITE); CloseHandle(t); }
void sgw_thread_detach(sgw_thread t) { CloseHandle(t); }
sgw_thread_id sgw_thread_self(void) { return GetCurrentThreadId(); }
int sgw_thread_is(sgw_thread_id a, sgw_thread_id b) { return a == b; }
int64_t sgw_now_ms(void) { return (int64_t)GetTickCount64(); }
void sgw_sleep_ms(int64_t ms) { if (ms > 0) Sleep((DWORD)ms); }

int sgw_net_init(void) {
    WSADATA wsa;
    return WSAStartup(MAKEWORD(2, 2), &wsa) == 0 ? 0 : -1;
}

long sgw_send(sgw_sock s, const char* buf, size_t len) { return send(s, buf, (int)len, 0); }
long sgw_recv(sgw_sock s, char* buf, size_t len) { return recv(s, buf, (int)len, 0); }
void sgw_shutdown(sgw_sock s) { shutdown(s, SD_BOTH); }
void sgw_close(sgw_sock s) { closesocket(s); }

int sgw_set_blocking(sgw_sock s, int blocking) {
    u_long mode = blocking ? 0 : 1;
    return ioctlsocket(s, FIONBIO, &mode);
}
#define SGW_IN_PROGRESS(e) ((e) == WSAEWOULDBLOCK || (e) == WSAEINPROGRESS)
#define SGW_LAST_ERROR() WSAGetLastError()

#else /* POSIX */

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

void sgw_mutex_init(sgw_mutex* m) { pthread_mutex_init(m, NULL); }
void sgw_mutex_destroy(sgw_mutex* m) { pthread_mutex_destroy(m); }
void sgw_lock(sgw_mutex* m) { pthread_mutex_lock(m); }
void sgw_unlock(sgw_mutex* m) { pthread_mutex_unlock(m); }

void sgw_cond_init(sgw_cond* c) {
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
}

void sgw_cond_destroy(sgw_cond* c) { pthread_cond_destroy(c); }
void sgw_cond_broadcast(sgw_cond* c) { pthread_cond_broadcast(c); }
void sgw_cond_wait(sgw_cond* c, sgw_mutex* m) { pthread_cond_wait(c, m); }

int sgw_cond_wait_until(sgw_cond* c, sgw_mutex* m, int64_t deadline_ms) {
    struct timespec ts;
    ts.tv_sec = (time_t)(deadline_ms / 1000);
    ts.tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
    return pthread_cond_timedwait(c, m, &ts) == 0;
}

struct start_box { void (*fn)(void*); void* arg; };

static void* thread_main(void* p) {
    struct start_box box = *(struct start_box*)p;
    free(p);
    box.fn(box.arg);
    return NULL;
}

int sgw_thread_start(sgw_thread* t, void (*fn)(void*), void* arg) {
    struct start_box* box = malloc(sizeof *box);
    if (!box) return -1;
    box->fn = fn;
    box->arg = arg;
    if (pthread_create(t, NULL, thread_main, box) != 0) { free(box); return -1; }
    return 0;
}

void sgw_thread_join(sgw_thread t) { pthread_join(t, NULL); }
void sgw_thread_detach(sgw_thread t) { pthread_detach(t); }
sgw_thread_id sgw_thread_self(void) { return pthread_self(); }
int sgw_thread_is(sgw_thread_id a, sgw_thread_id b) { return pthread_equal(a, b); }

int64_t sgw_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sgw_sleep_ms(int64_t ms) {
    struct timespec ts;
    if (ms <= 0) return;
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

int sgw_net_init(void) { return 0; }

long sgw_send(sgw_sock s, const char* buf, size_t len) {
    return (long)send(s, buf, len, MSG_NOSIGNAL);
}

long sgw_recv(sgw_sock s, char* buf, size_t len) {
    ssize_t n;
    do { n = recv(s, buf, len, 0); } while (n < 0 && errno == EINTR);
    return (long)n;
}

void sgw_shutdown(sgw_sock s) { shutdown(s, SHUT_RDWR); }
void sgw_close(sgw_sock s) { close(s); }

int sgw_set_blocking(sgw_sock s, int blocking) {
    int flags = fcntl(s, F_GETFL, 0);
    if (flags < 0) return -1;
    return fcntl(s, F_SETFL, blocking ? (flags & ~O_NONBLOCK) : (flags | O_NONBLOCK));
}
#define SGW_IN_PROGRESS(e) ((e) == EINPROGRESS)
#define SGW_LAST_ERROR() errno

#endif

int sgw_wait_io(sgw_sock s, int for_write, int timeout_ms) {
#ifdef _WIN32
    fd_set set;
    struct timeval tv;
    FD_ZERO(&set);
    FD_SET(s, &set);
    tv.tv_sec = timeout_ms / 1000;
    tv.tv_usec = (timeout_ms % 1000) * 1000;
    return select(0, for_write ? NULL : &set, for_write ? &set : NULL, NULL,
                  timeout_ms < 0 ? NULL : &tv) < 0 ? -1 : FD_ISSET(s, &set) ? 1 : 0;
#else
    struct pollfd p;
    int r;
    p.fd = s;
    p.events = for_write ? POLLOUT : POLLIN;
    p.revents = 0;
    do { r = poll(&p, 1, timeout_ms); } while (r < 0 && errno == EINTR);
    return r < 0 ? -1 : r > 0 ? 1 : 0;
#endif
}

/* Waits for a non-blocking connect; 0 when connected. */
static int wait_connected(sgw_sock s, int timeout_ms) {
    int err = 0;
    socklen_t len = sizeof err;
#ifdef _WIN32
    fd_set wr, ex;
    struct timeval tv;
    FD_ZERO(&wr);
    FD_ZERO(&ex);
    FD_SET(s, &wr);
    FD_SET(s, &ex);
    tv.tv_sec = timeout_ms / 1000;
    tv.tv_usec = (timeout_ms % 1000) * 1000;
    if (select(0, NULL, &wr, &ex, &tv) <= 0 || FD_ISSET(s, &ex)) return -1;
    if (getsockopt(s, SOL_SOCKET, SO_ERROR, (char*)&err, &len) != 0) return -1;
#else
    struct pollfd p;
    int r;
    p.fd = s;
    p.events = POLLOUT;
    p.revents = 0;
    do { r = poll(&p, 1, timeout_ms); } while (r < 0 && errno == EINTR);
    if (r <= 0) return r == 0 ? -2 : -1;
    if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return -1;
#endif
    return err == 0 ? 0 : -1;
}

sgw_sock sgw_connect(const char* host, const char* port, int timeout_ms, char* errbuf,
                     size_t errlen) {
    struct addrinfo hints, *res = NULL, *ai;
    sgw_sock s = SGW_BAD_SOCK;
    int rc;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(errbuf, errlen, "cannot resolve %s", host);
        return SGW_BAD_SOCK;
    }
    snprintf(errbuf, errlen, "cannot connect to %s:%s", host, port);
    for (ai = res; ai; ai = ai->ai_next) {
        int one = 1, w;
        s = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (s == SGW_BAD_SOCK) continue;
        sgw_set_blocking(s, 0);
        rc = connect(s, ai->ai_addr, (socklen_t)ai->ai_addrlen);
        if (rc != 0 && !SGW_IN_PROGRESS(SGW_LAST_ERROR())) {
            sgw_close(s);
            s = SGW_BAD_SOCK;
            continue;
        }
        w = rc == 0 ? 0 : wait_connected(s, timeout_ms);
        if (w != 0) {
            if (w == -2) snprintf(errbuf, errlen, "no answer from %s:%s within %d ms", host,
                                  port, timeout_ms);
            sgw_close(s);
            s = SGW_BAD_SOCK;
            continue;
        }
        sgw_set_blocking(s, 1);
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, (const char*)&one, sizeof one);
        break;
    }
    freeaddrinfo(res);
    return s;
}
