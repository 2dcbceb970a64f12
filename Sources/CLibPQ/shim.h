#ifndef LAKEHOOK_CLIBPQ_SHIM_H
#define LAKEHOOK_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
