#ifndef PROXYARPD_CLINUXNET_SHIM_H
#define PROXYARPD_CLINUXNET_SHIM_H
// rtnetlink for proxyarpd: the kernel headers, plus `static inline` versions of the
// macros Swift cannot import. Header only; nothing to link.
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <net/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>

// Thread names for IO/Threads (PlatformThread), a GNU extension: declared here as glibc
// declares it under _GNU_SOURCE. The eventfd of WakeSignal comes from <sys/eventfd.h> above.
extern int pthread_setname_np(pthread_t thread, const char *name);

// setns(2) is declared by <sched.h> only under _GNU_SOURCE; declare it here instead.
extern int setns(int fd, int nstype);

static const int CLN_CLONE_NEWNET = 0x40000000;
#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif
static const int CLN_NETLINK_GET_STRICT_CHK = NETLINK_GET_STRICT_CHK;
#ifndef FRA_PROTOCOL
#define FRA_PROTOCOL 21
#endif
static const int CLN_FRA_PROTOCOL = FRA_PROTOCOL;

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
static const int CLN_SOL_NETLINK = SOL_NETLINK;

static inline int cln_setns(int fd, int nstype) { return setns(fd, nstype); }

// A send-only AF_PACKET socket (protocol 0: the kernel delivers it no frame), or -errno.
static inline int cln_packet_sender(void) {
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    return fd < 0 ? -errno : fd;
}

// Sends one whole Ethernet frame out of interface `ifindex`; 0 or -errno.
static inline int cln_packet_send(int fd, int ifindex, const void *frame, size_t length) {
    struct sockaddr_ll address;
    memset(&address, 0, sizeof(address));
    address.sll_family = AF_PACKET;
    address.sll_ifindex = ifindex;
    address.sll_halen = 6;
    if (length >= 6) memcpy(address.sll_addr, frame, 6);
    ssize_t sent = sendto(fd, frame, length, 0, (const struct sockaddr *)&address, sizeof(address));
    return sent < 0 ? -errno : 0;
}

// Multicast groups (the legacy bit masks for nl_groups in bind()).
static const uint32_t CLN_RTMGRP_LINK = RTMGRP_LINK;
static const uint32_t CLN_RTMGRP_IPV4_IFADDR = RTMGRP_IPV4_IFADDR;
static const uint32_t CLN_RTMGRP_IPV6_IFADDR = RTMGRP_IPV6_IFADDR;

// Flags and types that are macros.
static const uint16_t CLN_NLM_F_REQUEST = NLM_F_REQUEST;
static const uint16_t CLN_NLM_F_MULTI = NLM_F_MULTI;
static const uint16_t CLN_NLM_F_ACK = NLM_F_ACK;
static const uint16_t CLN_NLM_F_DUMP = NLM_F_DUMP;
static const uint16_t CLN_NLM_F_DUMP_INTR = NLM_F_DUMP_INTR;
static const uint16_t CLN_NLM_F_REPLACE = NLM_F_REPLACE;
static const uint16_t CLN_NLM_F_EXCL = NLM_F_EXCL;
static const uint16_t CLN_NLM_F_CREATE = NLM_F_CREATE;
static const uint16_t CLN_NLMSG_NOOP = NLMSG_NOOP;
static const uint16_t CLN_NLMSG_ERROR = NLMSG_ERROR;
static const uint16_t CLN_NLMSG_DONE = NLMSG_DONE;
static const uint16_t CLN_NLMSG_OVERRUN = NLMSG_OVERRUN;
static const uint16_t CLN_NLA_TYPE_MASK = NLA_TYPE_MASK;

// NLMSG_* macros.
static inline uint32_t cln_nlmsg_align(uint32_t len) { return NLMSG_ALIGN(len); }
static inline uint32_t cln_nlmsg_hdrlen(void) { return NLMSG_HDRLEN; }
static inline uint32_t cln_nlmsg_length(uint32_t len) { return NLMSG_LENGTH(len); }
static inline uint32_t cln_nlmsg_space(uint32_t len) { return NLMSG_SPACE(len); }
static inline void *cln_nlmsg_data(struct nlmsghdr *nlh) { return NLMSG_DATA(nlh); }
static inline int cln_nlmsg_ok(const struct nlmsghdr *nlh, int len) { return NLMSG_OK(nlh, len); }
static inline struct nlmsghdr *cln_nlmsg_next(struct nlmsghdr *nlh, int *len) { return NLMSG_NEXT(nlh, *len); }

// RTA_* macros.
static inline uint32_t cln_rta_align(uint32_t len) { return RTA_ALIGN(len); }
static inline uint32_t cln_rta_length(uint32_t len) { return RTA_LENGTH(len); }
static inline uint32_t cln_rta_space(uint32_t len) { return RTA_SPACE(len); }
static inline int cln_rta_ok(const struct rtattr *rta, int len) { return RTA_OK(rta, len); }
static inline struct rtattr *cln_rta_next(struct rtattr *rta, int *len) { return RTA_NEXT(rta, *len); }
static inline void *cln_rta_data(struct rtattr *rta) { return RTA_DATA(rta); }
static inline int cln_rta_payload(const struct rtattr *rta) { return (int)RTA_PAYLOAD(rta); }

// First attribute of the family headers (IFLA_RTA / IFA_RTA / RTM_RTA).
static inline struct rtattr *cln_ifla_rta(struct ifinfomsg *m) { return IFLA_RTA(m); }
static inline struct rtattr *cln_ifa_rta(struct ifaddrmsg *m) { return IFA_RTA(m); }
static inline struct rtattr *cln_rtm_rta(struct rtmsg *m) { return RTM_RTA(m); }
static inline int cln_ifla_payload(struct nlmsghdr *n) { return IFLA_PAYLOAD(n); }
static inline int cln_ifa_payload(struct nlmsghdr *n) { return IFA_PAYLOAD(n); }
static inline int cln_rtm_payload(struct nlmsghdr *n) { return RTM_PAYLOAD(n); }

// tc (ARPRequestGuard): loading a hand-assembled eBPF `tc` classifier with bpf(2).
// <linux/bpf.h> is not included: its `struct bpf_insn` clashes with libpcap's classic one
// (CPcap); the BPF_PROG_LOAD part of `union bpf_attr` is laid out here instead (a prefix
// of the union, which the kernel accepts: the rest is zero).
#include <sys/syscall.h>

struct cln_bpf_prog_load {
    uint32_t prog_type;
    uint32_t insn_cnt;
    uint64_t insns;
    uint64_t license;
    uint32_t log_level;
    uint32_t log_size;
    uint64_t log_buf;
    uint32_t kern_version;
    uint32_t prog_flags;
    char prog_name[16];
};

/// BPF_PROG_LOAD (5) of `count` instructions as a BPF_PROG_TYPE_SCHED_CLS (3) program named
/// `name`: its file descriptor, or -errno (the verifier's log in `log` when given).
static inline int cln_bpf_load_sched_cls(const void *instructions, uint32_t count, const char *name, char *log, uint32_t log_size) {
    struct cln_bpf_prog_load attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_type = 3;
    attr.insn_cnt = count;
    attr.insns = (uint64_t)(uintptr_t)instructions;
    attr.license = (uint64_t)(uintptr_t)"GPL";
    if (log && log_size > 0) {
        attr.log_level = 1;
        attr.log_buf = (uint64_t)(uintptr_t)log;
        attr.log_size = log_size;
    }
    strncpy(attr.prog_name, name, sizeof attr.prog_name - 1);
    long fd = syscall(SYS_bpf, 5, &attr, sizeof attr);
    return fd < 0 ? -errno : (int)fd;
}

#endif
