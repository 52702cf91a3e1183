#ifndef PROXYARPD_CMALLOC_SHIM_H
#define PROXYARPD_CMALLOC_SHIM_H
// glibc's malloc introspection (mallinfo2, malloc_trim) for the memory probe. Header only.
#include <malloc.h>
#endif
