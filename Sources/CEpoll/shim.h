#ifndef LAKEHOOK_CEPOLL_SHIM_H
#define LAKEHOOK_CEPOLL_SHIM_H
/* Linux's epoll and eventfd, which Swift's Glibc module does not export (HTTP's event loop). */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#endif
