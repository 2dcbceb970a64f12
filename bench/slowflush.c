/* A disk whose flushes are slow, for the benchmark: LD_PRELOAD'ed into PostgreSQL, it makes every
 * fsync and fdatasync wait BENCH_FLUSH_US microseconds (default 1000, a cloud block volume)
 * before doing the real one. bench/durable.sh builds it with `cc -shared -fPIC`.
 * PostgreSQL flushes its WAL with fdatasync (wal_sync_method's default on Linux). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

static long delay_us(void) {
    static long delay = -1;
    if (delay < 0) {
        const char *text = getenv("BENCH_FLUSH_US");
        delay = text ? atol(text) : 1000;
    }
    return delay;
}

static void wait_flush(void) {
    long us = delay_us();
    struct timespec pause = { us / 1000000, (us % 1000000) * 1000 };
    while (nanosleep(&pause, &pause) != 0) {}
}

int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    wait_flush();
    return real(fd);
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    wait_flush();
    return real(fd);
}
