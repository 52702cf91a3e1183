#ifndef PROXYARPD_CPCAP_SHIM_H
#define PROXYARPD_CPCAP_SHIM_H
#include <pcap/pcap.h>
#include <sys/socket.h>
#include <errno.h>

/// Attaches `count` classic BPF instructions as the kernel filter of capture socket `fd`
/// with one `SO_ATTACH_FILTER`: the kernel swaps the program atomically, so every frame is
/// judged by the old program or the new one. (`pcap_setfilter` first attaches a reject-all
/// program and drains the socket, and every frame arriving in between is lost.) The
/// anonymous struct is the kernel's `struct sock_fprog` (linux/filter.h, not included: its
/// macros clash with libpcap's); `struct bpf_insn` has the layout of `struct sock_filter`.
/// Returns 0, or -1 with errno set.
static inline int cpcap_attach_kernel_filter(int fd, struct bpf_insn *instructions, unsigned short count) {
    struct { unsigned short len; struct bpf_insn *filter; } program = { count, instructions };
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program);
}
#endif
