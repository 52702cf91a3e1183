// libcap (Debian libcap-dev) and the prctl/credential calls used with it for the privilege drop;
// also the other process setup `proxyarpd run` does before any thread starts (malloc arenas).
#ifndef PROXYARPD_CCAP_SHIM_H
#define PROXYARPD_CCAP_SHIM_H

#include <grp.h>
#include <malloc.h>
#include <pwd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/// prctl is variadic in C; Swift needs fixed arities.
static inline int proxyarpd_prctl2(int option, unsigned long arg2) {
    return prctl(option, arg2, 0UL, 0UL, 0UL);
}

// glibc declares these only with _GNU_SOURCE, which would split fd_set from SwiftGlibc's.
// glibc applies them to every thread of the process (nptl setxid).
extern int setresuid(uid_t ruid, uid_t euid, uid_t suid);
extern int setresgid(gid_t rgid, gid_t egid, gid_t sgid);
extern int getresuid(uid_t *ruid, uid_t *euid, uid_t *suid);

static inline int proxyarpd_setresuid(uid_t uid) { return setresuid(uid, uid, uid); }
static inline int proxyarpd_setresgid(gid_t gid) { return setresgid(gid, gid, gid); }
static inline int proxyarpd_getresuid(uid_t *r, uid_t *e, uid_t *s) { return getresuid(r, e, s); }

/// The calling thread's kernel id (gettid).
static inline long proxyarpd_gettid(void) {
    return syscall(SYS_gettid);
}

/// glibc's bound on malloc arenas (`mallopt(M_ARENA_MAX, arenas)`); 1 on success. The Glibc
/// module does not import <malloc.h>.
static inline int proxyarpd_malloc_arena_max(int arenas) {
    return mallopt(M_ARENA_MAX, arenas);
}

#endif
