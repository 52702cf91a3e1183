#ifndef PROXYARPD_CMALLOC_SHIM_H
#define PROXYARPD_CMALLOC_SHIM_H
// glibc's malloc: introspection (mallinfo2, malloc_info, malloc_trim) for the memory probe,
// and the daemon's one tuning. Header only.
#include <malloc.h>

// Large blocks (from 128 KiB: the trace ring, the VIP tables of 100,000 VIPs, a status
// reply) each get their own mapping, returned to the kernel when freed. By default glibc
// raises this threshold to the size of every mapped block freed, after which a table that
// doubles while VIPs are added leaves each outgrown buffer as a hole in the heap: about
// 9 MB of resident memory at 100,000 VIPs (proxyarpd-lab memory-probe). Setting it turns that off.
static inline void proxyarpd_tune_malloc(void) {
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
}

// Gives free heap pages back to the kernel (malloc_trim(0): the top of the heap, and
// whole free pages inside it). Activation's transient peak (tasks, observation batches,
// netlink replies) is freed once VIPs settle but glibc keeps it; called once then.
static inline void proxyarpd_release_free_memory(void) {
    malloc_trim(0);
}
#endif
