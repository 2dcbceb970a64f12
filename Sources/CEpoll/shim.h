#ifndef LAKEHOOK_CEPOLL_SHIM_H
#define LAKEHOOK_CEPOLL_SHIM_H
/* Linux calls that Swift's Glibc module does not export: epoll and eventfd (HTTP's event loop),
   and pwritev2 with RWF_NOWAIT (Webhooks' log sink). */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/* write(2) that fails with EAGAIN instead of waiting when a pipe or socket is full, without
   touching the file's O_NONBLOCK (stderr's open file may be shared with other processes).
   pwritev2 at offset -1 (the current position) with RWF_NOWAIT (0x8); EOPNOTSUPP or ENOSYS
   where the kernel does not offer it for this file. */
static inline long lakehook_write_nowait(int fd, const void *bytes, unsigned long count) {
    struct iovec iov = { (void *)bytes, count };
    return syscall(SYS_pwritev2, fd, &iov, 1, -1L, 0L, 0x00000008);
}
#endif
