#ifndef PROXYARPD_CBPF_SHIM_H
#define PROXYARPD_CBPF_SHIM_H
// libbpf (Debian libbpf-dev): open the embedded object, load it, create XDP links, read and
// write maps, and BPF_PROG_TEST_RUN for the tests.
//
// <linux/bpf.h> and libpcap's <pcap/bpf.h> both define `struct bpf_insn` (eBPF and classic
// BPF instructions): two Clang modules in one Swift program may not disagree on a struct, so
// the eBPF one is renamed here (nothing of proxyarpd uses it; C symbols carry no struct names).
#define bpf_insn proxyarpd_ebpf_insn
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#undef bpf_insn
#include <linux/if_link.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>

/// 1 when `ifname`'s driver (ethtool ETHTOOL_GDRVINFO, in the caller's network namespace)
/// is veth, 0 when it is another driver, -errno when it cannot be asked.
static inline int proxyarpd_is_veth(const char *ifname) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct ethtool_drvinfo info;
    memset(&info, 0, sizeof info);
    info.cmd = ETHTOOL_GDRVINFO;
    struct ifreq request;
    memset(&request, 0, sizeof request);
    strncpy(request.ifr_name, ifname, IFNAMSIZ - 1);
    request.ifr_data = (char *)&info;
    int status = ioctl(fd, SIOCETHTOOL, &request) == 0 ? (strcmp(info.driver, "veth") == 0) : -errno;
    close(fd);
    return status;
}

/// Routes libbpf's own messages nowhere (the daemon logs what failed, with errno).
static int proxyarpd_bpf_silent_print(enum libbpf_print_level level, const char *format, va_list args) {
    (void)level; (void)format; (void)args;
    return 0;
}

static inline void proxyarpd_bpf_silence(void) { libbpf_set_print(proxyarpd_bpf_silent_print); }

/// `bpf_object__open_mem` with a name for the object (the options are a C designated initializer).
static inline struct bpf_object *proxyarpd_bpf_open_mem(const void *bytes, size_t size) {
    LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "proxyarpd");
    return bpf_object__open_mem(bytes, size, &opts);
}

/// Opens `bytes` (the device-bound build) and loads its `proxyarp_xdp` bound to `ifindex`
/// (BPF_F_XDP_DEV_BOUND_ONLY, so it may ask the driver for offloaded VLAN tags), using the maps
/// of `maps_from` (same names) instead of its own. Returns the object (the caller closes it)
/// and the program's fd in `*prog_fd`, or NULL with errno set.
static inline struct bpf_object *proxyarpd_bpf_load_bound(const void *bytes, size_t size, struct bpf_object *maps_from,
                                                          int ifindex, int *prog_fd) {
    LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "proxyarpd_bound");
    struct bpf_object *object = bpf_object__open_mem(bytes, size, &opts);
    if (!object) return NULL;
    int status = 0;
    struct bpf_map *map;
    bpf_object__for_each_map(map, object) {
        struct bpf_map *shared = bpf_object__find_map_by_name(maps_from, bpf_map__name(map));
        if (shared && (status = bpf_map__reuse_fd(map, bpf_map__fd(shared))) != 0) break;
    }
    struct bpf_program *program = bpf_object__find_program_by_name(object, "proxyarp_xdp");
    if (status == 0 && !program) status = -ENOENT;
    if (status == 0) {
        bpf_program__set_ifindex(program, ifindex);
        bpf_program__set_flags(program, bpf_program__flags(program) | (1U << 6) /* BPF_F_XDP_DEV_BOUND_ONLY */);
        status = bpf_object__load(object);
    }
    if (status != 0) {
        bpf_object__close(object);
        errno = status < 0 ? -status : status;
        return NULL;
    }
    *prog_fd = bpf_program__fd(program);
    return object;
}

/// `bpf_link_create` for XDP on `ifindex` with XDP_FLAGS_* `flags` (driver or generic mode).
static inline int proxyarpd_bpf_xdp_link(int prog_fd, int ifindex, __u32 flags) {
    LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = flags);
    return bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);
}

/// The XDP programs attached to `ifindex`, by mode (0 when none): `bpf_xdp_query`.
static inline int proxyarpd_bpf_xdp_query(int ifindex, __u32 *driver, __u32 *generic, __u32 *hardware) {
    LIBBPF_OPTS(bpf_xdp_query_opts, opts);
    int status = bpf_xdp_query(ifindex, 0, &opts);
    if (status != 0) return status;
    *driver = opts.drv_prog_id;
    *generic = opts.skb_prog_id;
    *hardware = opts.hw_prog_id;
    return 0;
}

/// Detaches the program attached in `flags`' mode on `ifindex` only if it is still `prog_fd`.
static inline int proxyarpd_bpf_xdp_detach_if(int ifindex, __u32 flags, int prog_fd) {
    LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = prog_fd);
    return bpf_xdp_detach(ifindex, flags | XDP_FLAGS_REPLACE, &opts);
}

/// One BPF_PROG_TEST_RUN: runs `prog_fd` on `frame`, writes the frame as the program left it
/// into `out` (`*out_size` in: capacity, out: length) and the verdict into `*verdict`.
static inline int proxyarpd_bpf_test_run(int prog_fd, const void *frame, __u32 size, void *out, __u32 *out_size,
                                         __u32 *verdict) {
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = size, .data_out = out,
                .data_size_out = *out_size, .repeat = 1);
    int status = bpf_prog_test_run_opts(prog_fd, &opts);
    *out_size = opts.data_size_out;
    *verdict = opts.retval;
    return status;
}

/// The name of the program `id` (needs CAP_SYS_ADMIN for `bpf_prog_get_fd_by_id`), into
/// `name` (16 bytes). Returns its fd (the caller closes it) or a negative errno.
static inline int proxyarpd_bpf_prog_name(__u32 id, char *name) {
    int fd = bpf_prog_get_fd_by_id(id);
    if (fd < 0) return fd;
    struct bpf_prog_info info = {0};
    __u32 length = sizeof(info);
    int status = bpf_obj_get_info_by_fd(fd, &info, &length);
    if (status != 0) { close(fd); return status; }
    __builtin_memcpy(name, info.name, 16);
    return fd;
}

/// The id of the program behind `prog_fd` (0 on failure).
static inline __u32 proxyarpd_bpf_prog_id(int prog_fd) {
    struct bpf_prog_info info = {0};
    __u32 length = sizeof(info);
    if (bpf_obj_get_info_by_fd(prog_fd, &info, &length) != 0) return 0;
    return info.id;
}
#endif
