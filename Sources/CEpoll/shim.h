#ifndef LAKEHOOK_CEPOLL_SHIM_H
#define LAKEHOOK_CEPOLL_SHIM_H
/* Linux's epoll and eventfd, which Swift's Glibc module does not export (HTTP's event loop),
   and glibc's malloc_trim (HTTP's body budget hands freed body memory back). */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <malloc.h>
#endif
