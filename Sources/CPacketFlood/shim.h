#ifndef PROXYARPD_CPACKETFLOOD_SHIM_H
#define PROXYARPD_CPACKETFLOOD_SHIM_H
// The traffic generator of `proxyarpd-lab bench` and `soak` (lab only; the daemon never
// uses it). The bench: a PACKET_MMAP TX ring (TPACKET_V2, PACKET_QDISC_BYPASS) that sends
// one request frame (an ARP request or a Neighbor Solicitation), paced or as fast as the
// sending core allows, from a thread pinned to one CPU. The soak: a paced sendmmsg sender
// over many frames until stopped. Both: a receiver thread that counts ARP replies (or, for
// the bench's NDP ladder, solicited Neighbor Advertisements) with recvmmsg (the soak's
// records each one).
// Written in C so that the generator is not the bottleneck. Header only; nothing to link.
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>
#include <stdlib.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <linux/if_ether.h>

// glibc declares these (and struct mmsghdr, cpu_set_t) only under _GNU_SOURCE, which a
// module imported by Swift does not get: declare the same ABI here.
struct paf_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};
extern int sched_setaffinity(pid_t pid, size_t cpusetsize, const void *mask);
extern int recvmmsg(int sockfd, struct paf_mmsghdr *msgvec, unsigned int vlen, int flags, struct timespec *timeout);
#ifndef MSG_WAITFORONE
#define MSG_WAITFORONE 0x10000
#endif

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif
#ifndef PACKET_QDISC_BYPASS
#define PACKET_QDISC_BYPASS 20
#endif

/// The outcome of one step.
typedef struct {
    uint64_t offered;        // frames the schedule asked for (unpaced: = sent)
    uint64_t sent;           // frames the kernel transmitted from the ring
    uint64_t send_errors;    // kicks (send) that failed (ENOBUFS...): the frames stay queued and go next kick
    uint64_t replies;        // ARP replies from the watched sender IP to the requester
    uint64_t other;          // other frames the receiver read
    uint64_t receiver_drops; // frames the receiving socket's buffer dropped (PACKET_STATISTICS)
    double send_seconds;     // from the first send to the last frame's transmission
    double busy_seconds;     // machine busy CPU (/proc/stat, all CPUs, all but nice+idle+iowait) over send_seconds
    double lab_seconds;      // this process's CPU (all threads) + the machine's irq and softirq time over send_seconds
    int pinned;              // 1 when the sender was pinned to the requested CPU
    int ring;                // 1 when the TX ring with qdisc bypass was set up
} paf_step_result;

static inline uint64_t paf_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/// Busy ticks of the whole machine: the first line of /proc/stat, all fields but nice, idle
/// and iowait (softirq included: where veth and the kernel's ARP run). Niced time is left
/// out so that other jobs on a shared machine, run with `nice`, do not hide the lab's CPU
/// (every process of the lab runs at nice 0). -1 when unreadable.
static inline double paf_machine_busy_seconds(void) {
    FILE *file = fopen("/proc/stat", "re");
    if (!file) return -1;
    unsigned long long v[8] = {0};
    int n = fscanf(file, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
    fclose(file);
    if (n < 8) return -1;
    double ticks = (double)(v[0] + v[2] + v[5] + v[6] + v[7]);
    return ticks / (double)sysconf(_SC_CLK_TCK);
}

/// The machine's irq + softirq seconds (/proc/stat fields 6 and 7): where veth, the bridge
/// and the kernel's ARP code run, whoever's task was interrupted. -1 when unreadable.
static inline double paf_machine_softirq_seconds(void) {
    FILE *file = fopen("/proc/stat", "re");
    if (!file) return -1;
    unsigned long long v[8] = {0};
    int n = fscanf(file, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
    fclose(file);
    if (n < 8) return -1;
    return (double)(v[5] + v[6]) / (double)sysconf(_SC_CLK_TCK);
}

/// CPU seconds of this process, all threads (user + system).
static inline double paf_process_seconds(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) return -1;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/// An AF_PACKET raw socket bound to `ifname` for `protocol` (host order), or -errno.
static inline int paf_open(const char *ifname, int protocol, int buffer_bytes) {
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons((uint16_t)protocol));
    if (fd < 0) return -errno;
    unsigned int index = if_nametoindex(ifname);
    if (index == 0) { int e = errno; close(fd); return -e; }
    struct sockaddr_ll address;
    memset(&address, 0, sizeof address);
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons((uint16_t)protocol);
    address.sll_ifindex = (int)index;
    if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0) { int e = errno; close(fd); return -e; }
    if (buffer_bytes > 0) {
        // SO_*BUFFORCE ignores rmem_max/wmem_max (we are root in the lab).
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer_bytes, sizeof buffer_bytes);
        setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buffer_bytes, sizeof buffer_bytes);
    }
    int one = 1;
    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
    return fd;
}

/// One ARP reply the soak's receiver heard: when (CLOCK_MONOTONIC), for which address
/// (the ARP sender IP), from which MAC (the ARP sender hardware address), and whether the
/// Ethernet source differed from it.
typedef struct {
    uint64_t at_ns;
    uint32_t sender_ip_be;
    uint8_t sender_mac[6];
    uint8_t ethernet_source_differs;
    uint8_t reserved;
} paf_reply_record;

/// A single-producer single-consumer ring of reply records (the receiver thread writes,
/// the soak's drain reads). `capacity` is a power of two.
typedef struct {
    paf_reply_record *records;
    uint64_t capacity;
    uint64_t head;      // next to write (receiver)
    uint64_t tail;      // next to read (drain)
    uint64_t overflow;  // records lost because the ring was full
} paf_reply_ring;

typedef struct {
    int fd;
    uint32_t sender_ip_be;   // count replies from this address (0: from any address)
    uint32_t target_ip_be;   // ...to this requester
    volatile int stop;
    uint64_t replies;
    uint64_t other;
    paf_reply_ring *ring;    // when set, every counted reply is also recorded here
    // NDP (the bench's NDP ladder): when `ndp` is set, a reply is a solicited Neighbor
    // Advertisement of `target6` to `requester6` (and, when `match_mac` is set, from
    // `responder_mac`: Ethernet source and target link-layer option), not an ARP reply.
    int ndp;
    int match_mac;
    uint8_t target6[16];
    uint8_t requester6[16];
    uint8_t responder_mac[6];
} paf_receiver;

enum { PAF_SNAP = 96 };  // bytes kept per received frame: an advertisement with its option is 86

/// True when `frame` (`length` bytes kept) is a solicited Neighbor Advertisement the
/// receiver counts: untagged IPv6, next header ICMPv6, hop limit 255, type 136 code 0,
/// S flag, to the requester, for the target, from the responder's MAC when one is set.
static inline int paf_is_counted_advertisement(const paf_receiver *receiver, const uint8_t *frame, unsigned length) {
    if (length < 78) return 0;
    if (frame[12] != 0x86 || frame[13] != 0xDD || (frame[14] >> 4) != 6) return 0;
    if (frame[20] != 58 || frame[21] != 255) return 0;
    if (frame[54] != 136 || frame[55] != 0 || (frame[58] & 0x40) == 0) return 0;
    if (memcmp(frame + 38, receiver->requester6, 16) != 0 || memcmp(frame + 62, receiver->target6, 16) != 0) return 0;
    if (receiver->match_mac) {
        if (memcmp(frame + 6, receiver->responder_mac, 6) != 0) return 0;
        // The target link-layer address option, when the advertisement carries one.
        if (length >= 86 && frame[78] == 2 && frame[79] == 1 && memcmp(frame + 80, receiver->responder_mac, 6) != 0) return 0;
    }
    return 1;
}

static inline void paf_ring_push(paf_reply_ring *ring, const uint8_t *frame, uint32_t sender) {
    uint64_t head = ring->head;
    uint64_t tail = __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);
    if (head - tail >= ring->capacity) {
        __atomic_fetch_add(&ring->overflow, 1, __ATOMIC_RELAXED);
        return;
    }
    paf_reply_record *record = &ring->records[head & (ring->capacity - 1)];
    record->at_ns = paf_now_ns();
    record->sender_ip_be = sender;
    memcpy(record->sender_mac, frame + 22, 6);
    record->ethernet_source_differs = memcmp(frame + 6, frame + 22, 6) != 0;
    record->reserved = 0;
    __atomic_store_n(&ring->head, head + 1, __ATOMIC_RELEASE);
}

static inline void *paf_receive_loop(void *context) {
    paf_receiver *receiver = (paf_receiver *)context;
    enum { N = 256, SNAP = PAF_SNAP };
    static __thread uint8_t buffers[N][SNAP];
    struct paf_mmsghdr messages[N];
    struct iovec vectors[N];
    for (int i = 0; i < N; i++) {
        vectors[i].iov_base = buffers[i];
        vectors[i].iov_len = SNAP;
        memset(&messages[i], 0, sizeof messages[i]);
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    struct timeval timeout = {0, 20000};
    setsockopt(receiver->fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    while (!__atomic_load_n(&receiver->stop, __ATOMIC_ACQUIRE)) {
        int count = recvmmsg(receiver->fd, messages, N, MSG_WAITFORONE, NULL);
        if (count <= 0) continue;
        for (int i = 0; i < count; i++) {
            const uint8_t *frame = buffers[i];
            if (receiver->ndp) {
                unsigned kept = messages[i].msg_len < SNAP ? messages[i].msg_len : SNAP;
                if (paf_is_counted_advertisement(receiver, frame, kept)) __atomic_fetch_add(&receiver->replies, 1, __ATOMIC_RELAXED);
                else __atomic_fetch_add(&receiver->other, 1, __ATOMIC_RELAXED);
                continue;
            }
            uint32_t sender, target;
            memcpy(&sender, frame + 28, 4);
            memcpy(&target, frame + 38, 4);
            // A reply from the watched address (or any, when none is watched) to our
            // requester (gratuitous replies, whose target is the VIP itself, are not counted).
            if (messages[i].msg_len >= 42 && frame[12] == 0x08 && frame[13] == 0x06 && frame[20] == 0 &&
                frame[21] == 2 && (receiver->sender_ip_be == 0 || sender == receiver->sender_ip_be) &&
                target == receiver->target_ip_be) {
                __atomic_fetch_add(&receiver->replies, 1, __ATOMIC_RELAXED);
                if (receiver->ring) paf_ring_push(receiver->ring, frame, sender);
            } else {
                __atomic_fetch_add(&receiver->other, 1, __ATOMIC_RELAXED);
            }
        }
    }
    return NULL;
}

/// A TPACKET_V2 TX ring on a bound AF_PACKET socket, every slot pre-filled with the frame.
typedef struct {
    uint8_t *base;
    size_t size;
    unsigned frame_size;
    unsigned frames;
    unsigned next;
} paf_tx_ring;

enum { PAF_FRAME_SIZE = 256, PAF_BLOCK_SIZE = 1 << 16, PAF_BLOCKS = 16 };  // 4,096 slots, 1 MiB

/// Data offset in a TPACKET_V2 TX slot: the aligned header (the sockaddr_ll part of
/// TPACKET2_HDRLEN is not used on TX).
static inline unsigned paf_tx_data_offset(void) { return TPACKET_ALIGN(sizeof(struct tpacket2_hdr)); }

/// Sets up the ring (TPACKET_V2, qdisc bypass) and fills every slot; 0 or -errno.
static inline int paf_tx_ring_open(int fd, const uint8_t *frame, int length, paf_tx_ring *ring) {
    memset(ring, 0, sizeof *ring);
    int version = TPACKET_V2;
    if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) != 0) return -errno;
    int one = 1;
    if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) != 0) return -errno;
    struct tpacket_req request;
    request.tp_block_size = PAF_BLOCK_SIZE;
    request.tp_block_nr = PAF_BLOCKS;
    request.tp_frame_size = PAF_FRAME_SIZE;
    request.tp_frame_nr = (PAF_BLOCK_SIZE / PAF_FRAME_SIZE) * PAF_BLOCKS;
    if (setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &request, sizeof request) != 0) return -errno;
    size_t size = (size_t)PAF_BLOCK_SIZE * PAF_BLOCKS;
    void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) return -errno;
    ring->base = (uint8_t *)base;
    ring->size = size;
    ring->frame_size = PAF_FRAME_SIZE;
    ring->frames = request.tp_frame_nr;
    for (unsigned i = 0; i < ring->frames; i++) {
        uint8_t *slot = ring->base + (size_t)i * ring->frame_size;
        memcpy(slot + paf_tx_data_offset(), frame, (size_t)length);
        ((struct tpacket2_hdr *)slot)->tp_len = (uint32_t)length;
    }
    return 0;
}

static inline struct tpacket2_hdr *paf_tx_slot(paf_tx_ring *ring, unsigned index) {
    return (struct tpacket2_hdr *)(ring->base + (size_t)index * ring->frame_size);
}

/// Queues up to `count` frames in free slots; returns how many were queued.
static inline unsigned paf_tx_queue(paf_tx_ring *ring, unsigned count) {
    unsigned queued = 0;
    while (queued < count) {
        struct tpacket2_hdr *slot = paf_tx_slot(ring, ring->next);
        if (__atomic_load_n(&slot->tp_status, __ATOMIC_ACQUIRE) != TP_STATUS_AVAILABLE) break;
        __atomic_store_n(&slot->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
        ring->next = (ring->next + 1) % ring->frames;
        queued++;
    }
    return queued;
}

/// Frames still queued or in flight (not yet handed back as available).
static inline unsigned paf_tx_pending(paf_tx_ring *ring) {
    unsigned pending = 0;
    for (unsigned i = 0; i < ring->frames; i++)
        if (__atomic_load_n(&paf_tx_slot(ring, i)->tp_status, __ATOMIC_ACQUIRE) != TP_STATUS_AVAILABLE) pending++;
    return pending;
}

/// One step: starts a receiver on `receive_fd` counting the replies `match` describes (its
/// matching fields; counters and fd are set here), then sends `frame` from a TX ring on
/// `send_fd` for `seconds` at `rate` frames/s (batches of `batch` on a monotonic schedule),
/// or, when `rate` is 0, unpaced (as fast as the core transmits), from a thread pinned to
/// `cpu` (when >= 0); waits `tail_ms` for late replies and stops the receiver.
static inline int paf_run_step_matching(int send_fd, int receive_fd, const uint8_t *frame, int length, const paf_receiver *match,
                                        uint64_t rate, double seconds, int batch, int cpu, int tail_ms, paf_step_result *out) {
    memset(out, 0, sizeof *out);
    if (batch < 1) batch = 1;
    if (batch > 1024) batch = 1024;
    if (cpu >= 0) {
        unsigned long set[16];
        memset(set, 0, sizeof set);
        if (cpu < 1024) set[cpu / (8 * sizeof(unsigned long))] |= 1ul << (cpu % (8 * sizeof(unsigned long)));
        out->pinned = sched_setaffinity(0, sizeof set, set) == 0;
    }
    paf_tx_ring ring;
    int status = paf_tx_ring_open(send_fd, frame, length, &ring);
    if (status != 0) return status;
    out->ring = 1;
    paf_receiver receiver = *match;
    receiver.fd = receive_fd;
    receiver.stop = 0;
    receiver.replies = 0;
    receiver.other = 0;
    receiver.ring = NULL;
    pthread_t thread;
    if (pthread_create(&thread, NULL, paf_receive_loop, &receiver) != 0) { munmap(ring.base, ring.size); return -EAGAIN; }
    usleep(50000);

    uint64_t total = rate > 0 ? (uint64_t)((double)rate * seconds) : UINT64_MAX;
    uint64_t duration_ns = (uint64_t)(seconds * 1e9);
    double busy_before = paf_machine_busy_seconds();
    double softirq_before = paf_machine_softirq_seconds();
    double process_before = paf_process_seconds();
    uint64_t start = paf_now_ns();
    uint64_t offered = 0;
    while (offered < total) {
        uint64_t now = paf_now_ns();
        if (rate > 0) {
            uint64_t due = start + (uint64_t)((double)offered * 1e9 / (double)rate);
            while (now < due) {
                uint64_t gap = due - now;
                if (gap > 200000) {
                    struct timespec pause = {0, (long)(gap - 100000)};
                    nanosleep(&pause, NULL);
                }
                now = paf_now_ns();
            }
        } else if (now - start >= duration_ns) {
            break;
        }
        uint64_t want = total - offered < (uint64_t)batch ? total - offered : (uint64_t)batch;
        unsigned queued = paf_tx_queue(&ring, (unsigned)want);
        // Transmits every queued frame now (qdisc bypass: in this thread, on this core).
        if (send(send_fd, NULL, 0, MSG_DONTWAIT) < 0 && errno != EAGAIN) out->send_errors++;
        if (queued == 0) {
            // The ring is full of frames in flight: let the kernel hand slots back.
            struct pollfd wait = {send_fd, POLLOUT, 0};
            poll(&wait, 1, 1);
            continue;
        }
        offered += queued;
    }
    // Flush what is still queued (bounded: 2 s).
    uint64_t flush_deadline = paf_now_ns() + 2000000000ull;
    while (paf_tx_pending(&ring) > 0 && paf_now_ns() < flush_deadline) {
        if (send(send_fd, NULL, 0, MSG_DONTWAIT) < 0 && errno != EAGAIN) out->send_errors++;
        usleep(100);
    }
    unsigned unsent = paf_tx_pending(&ring);
    out->send_seconds = (double)(paf_now_ns() - start) / 1e9;
    double busy_after = paf_machine_busy_seconds();
    double softirq_after = paf_machine_softirq_seconds();
    double process_after = paf_process_seconds();
    out->busy_seconds = busy_before >= 0 && busy_after >= 0 ? busy_after - busy_before : -1;
    out->lab_seconds = softirq_before >= 0 && softirq_after >= 0 && process_before >= 0 && process_after >= 0
        ? (softirq_after - softirq_before) + (process_after - process_before) : -1;
    out->offered = rate > 0 ? offered : offered - unsent;
    out->sent = offered - unsent;
    usleep((useconds_t)tail_ms * 1000);
    __atomic_store_n(&receiver.stop, 1, __ATOMIC_RELEASE);
    pthread_join(thread, NULL);
    out->replies = receiver.replies;
    out->other = receiver.other;
    struct tpacket_stats stats;
    socklen_t stats_length = sizeof stats;
    if (getsockopt(receive_fd, SOL_PACKET, PACKET_STATISTICS, &stats, &stats_length) == 0) out->receiver_drops = stats.tp_drops;
    munmap(ring.base, ring.size);
    return 0;
}

/// `paf_run_step_matching` counting ARP replies whose sender IP is `watched_ip_be` and
/// target `requester_ip_be`.
static inline int paf_run_step(int send_fd, int receive_fd, const uint8_t *frame, int length, uint32_t watched_ip_be,
                               uint32_t requester_ip_be,
                               uint64_t rate, double seconds, int batch, int cpu, int tail_ms, paf_step_result *out) {
    paf_receiver match;
    memset(&match, 0, sizeof match);
    match.sender_ip_be = watched_ip_be;
    match.target_ip_be = requester_ip_be;
    return paf_run_step_matching(send_fd, receive_fd, frame, length, &match, rate, seconds, batch, cpu, tail_ms, out);
}

/// `paf_run_step_matching` counting solicited Neighbor Advertisements of `target6` (16
/// bytes) to `requester6`, from `responder_mac` (6 bytes; NULL: from any MAC).
static inline int paf_run_step_ndp(int send_fd, int receive_fd, const uint8_t *frame, int length, const uint8_t *target6,
                                   const uint8_t *requester6, const uint8_t *responder_mac,
                                   uint64_t rate, double seconds, int batch, int cpu, int tail_ms, paf_step_result *out) {
    paf_receiver match;
    memset(&match, 0, sizeof match);
    match.ndp = 1;
    memcpy(match.target6, target6, 16);
    memcpy(match.requester6, requester6, 16);
    if (responder_mac) {
        match.match_mac = 1;
        memcpy(match.responder_mac, responder_mac, 6);
    }
    return paf_run_step_matching(send_fd, receive_fd, frame, length, &match, rate, seconds, batch, cpu, tail_ms, out);
}

// The soak's load: a paced sendmmsg sender over many frames and a recording receiver.

static inline void paf_pin(int cpu, paf_step_result *out) {
    if (cpu < 0) return;
    unsigned long set[16];
    memset(set, 0, sizeof set);
    if (cpu < 1024) set[cpu / (8 * sizeof(unsigned long))] |= 1ul << (cpu % (8 * sizeof(unsigned long)));
    out->pinned = sched_setaffinity(0, sizeof set, set) == 0;
}

/// Sends `frame_count` frames of `length` bytes each (laid out back to back in `frames`),
/// one after the other and round again, at `rate` frames/s in sendmmsg batches of `batch`
/// paced on a monotonic schedule: `total` frames, or (`total` 0) until `*stop` is set.
/// Adds to `out->sent`, `out->send_errors`, `out->offered` and sets `out->send_seconds`.
static inline void paf_send_paced(int send_fd, const uint8_t *frames, int frame_count, int length, uint64_t rate,
                                  uint64_t total, volatile int *stop, int batch, paf_step_result *out) {
    if (batch < 1) batch = 1;
    if (batch > 1024) batch = 1024;
    if (frame_count < 1 || rate == 0) return;
    struct paf_mmsghdr messages[1024];
    struct iovec vectors[1024];
    for (int i = 0; i < batch; i++) {
        memset(&messages[i], 0, sizeof messages[i]);
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
        vectors[i].iov_len = (size_t)length;
    }
    uint64_t start = paf_now_ns();
    uint64_t offered = 0;
    uint64_t next_frame = 0;
    while (total == 0 ? !__atomic_load_n(stop, __ATOMIC_ACQUIRE) : offered < total) {
        uint64_t due = start + (uint64_t)((double)offered * 1e9 / (double)rate);
        uint64_t now = paf_now_ns();
        while (now < due) {
            uint64_t gap = due - now;
            if (gap > 200000) {
                struct timespec pause = {0, (long)(gap - 100000)};
                nanosleep(&pause, NULL);
            }
            now = paf_now_ns();
        }
        uint64_t want = total != 0 && total - offered < (uint64_t)batch ? total - offered : (uint64_t)batch;
        for (uint64_t i = 0; i < want; i++) {
            vectors[i].iov_base = (void *)(frames + (size_t)(next_frame % (uint64_t)frame_count) * (size_t)length);
            next_frame++;
        }
        int sent = sendmmsg(send_fd, messages, (unsigned int)want, 0);
        if (sent > 0) __atomic_fetch_add(&out->sent, (uint64_t)sent, __ATOMIC_RELAXED);
        else __atomic_fetch_add(&out->send_errors, 1, __ATOMIC_RELAXED);
        offered += want;
        __atomic_store_n(&out->offered, offered, __ATOMIC_RELAXED);
    }
    out->send_seconds = (double)(paf_now_ns() - start) / 1e9;
}

/// Opens `paf_open(ifname, protocol, buffer_bytes)` inside the network namespace at
/// `netns_path` (`/var/run/netns/NAME`), from a helper thread that joins it and exits:
/// the socket keeps the namespace, the calling process stays where it is. -errno on failure.
typedef struct { const char *path; const char *ifname; int protocol; int buffer_bytes; int result; } paf_netns_open;

static inline void *paf_netns_open_thread(void *context) {
    paf_netns_open *request = (paf_netns_open *)context;
    int ns = open(request->path, O_RDONLY | O_CLOEXEC);
    if (ns < 0) { request->result = -errno; return NULL; }
    if (setns(ns, 0x40000000 /* CLONE_NEWNET */) != 0) { request->result = -errno; close(ns); return NULL; }
    close(ns);
    request->result = paf_open(request->ifname, request->protocol, request->buffer_bytes);
    return NULL;
}

static inline int paf_open_in(const char *netns_path, const char *ifname, int protocol, int buffer_bytes) {
    paf_netns_open request = {netns_path, ifname, protocol, buffer_bytes, -EINVAL};
    pthread_t thread;
    if (pthread_create(&thread, NULL, paf_netns_open_thread, &request) != 0) return -EAGAIN;
    pthread_join(thread, NULL);
    return request.result;
}

/// A running load: a sender thread going round `frame_count` request frames at `rate`/s
/// until stopped, and a receiver thread recording every ARP reply to the requester.
typedef struct {
    int send_fd;
    int receive_fd;
    uint8_t *frames;
    int frame_count;
    int length;
    uint64_t rate;
    volatile int stop;
    paf_step_result sent;
    paf_receiver receiver;
    paf_reply_ring ring;
    pthread_t sender_thread;
    pthread_t receiver_thread;
} paf_load;

static inline void *paf_load_send(void *context) {
    paf_load *load = (paf_load *)context;
    paf_send_paced(load->send_fd, load->frames, load->frame_count, load->length, load->rate, 0, &load->stop, 32, &load->sent);
    return NULL;
}

/// Starts a load on two open AF_PACKET sockets (which it closes at `paf_load_stop`).
/// Copies the frames. `ring_capacity` is rounded up to a power of two. NULL on failure.
static inline paf_load *paf_load_start(int send_fd, int receive_fd, const uint8_t *frames, int frame_count, int length,
                                       uint32_t requester_ip_be, uint64_t rate, uint64_t ring_capacity) {
    paf_load *load = (paf_load *)calloc(1, sizeof *load);
    if (!load) return NULL;
    uint64_t capacity = 1;
    while (capacity < ring_capacity) capacity <<= 1;
    load->ring.records = (paf_reply_record *)calloc(capacity, sizeof(paf_reply_record));
    load->frames = (uint8_t *)malloc((size_t)frame_count * (size_t)length);
    if (!load->ring.records || !load->frames) { free(load->ring.records); free(load->frames); free(load); return NULL; }
    memcpy(load->frames, frames, (size_t)frame_count * (size_t)length);
    load->ring.capacity = capacity;
    load->send_fd = send_fd;
    load->receive_fd = receive_fd;
    load->frame_count = frame_count;
    load->length = length;
    load->rate = rate;
    load->receiver.fd = receive_fd;
    load->receiver.sender_ip_be = 0;
    load->receiver.target_ip_be = requester_ip_be;
    load->receiver.ring = &load->ring;
    if (pthread_create(&load->receiver_thread, NULL, paf_receive_loop, &load->receiver) != 0) {
        free(load->ring.records); free(load->frames); free(load); return NULL;
    }
    if (pthread_create(&load->sender_thread, NULL, paf_load_send, load) != 0) {
        __atomic_store_n(&load->receiver.stop, 1, __ATOMIC_RELEASE);
        pthread_join(load->receiver_thread, NULL);
        free(load->ring.records); free(load->frames); free(load); return NULL;
    }
    return load;
}

/// Moves up to `max` recorded replies, oldest first, into `out`; returns how many.
static inline int paf_load_drain(paf_load *load, paf_reply_record *out, int max) {
    paf_reply_ring *ring = &load->ring;
    uint64_t tail = ring->tail;
    uint64_t head = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);
    int count = 0;
    while (tail != head && count < max) {
        out[count++] = ring->records[tail & (ring->capacity - 1)];
        tail++;
    }
    __atomic_store_n(&ring->tail, tail, __ATOMIC_RELEASE);
    return count;
}

/// Counters so far: requests sent, send errors, replies heard, other frames, records lost.
typedef struct { uint64_t sent; uint64_t send_errors; uint64_t replies; uint64_t other; uint64_t overflow; } paf_load_counters;

static inline paf_load_counters paf_load_read(paf_load *load) {
    paf_load_counters counters;
    counters.sent = __atomic_load_n(&load->sent.sent, __ATOMIC_RELAXED);
    counters.send_errors = __atomic_load_n(&load->sent.send_errors, __ATOMIC_RELAXED);
    counters.replies = __atomic_load_n(&load->receiver.replies, __ATOMIC_RELAXED);
    counters.other = __atomic_load_n(&load->receiver.other, __ATOMIC_RELAXED);
    counters.overflow = __atomic_load_n(&load->ring.overflow, __ATOMIC_RELAXED);
    return counters;
}

/// Stops the sender, waits `tail_ms` for late replies, stops the receiver, closes both sockets.
/// Call `paf_load_free` after the last drain.
static inline void paf_load_stop(paf_load *load, int tail_ms) {
    __atomic_store_n(&load->stop, 1, __ATOMIC_RELEASE);
    pthread_join(load->sender_thread, NULL);
    usleep((useconds_t)tail_ms * 1000);
    __atomic_store_n(&load->receiver.stop, 1, __ATOMIC_RELEASE);
    pthread_join(load->receiver_thread, NULL);
    close(load->send_fd);
    close(load->receive_fd);
}

static inline void paf_load_free(paf_load *load) {
    free(load->ring.records);
    free(load->frames);
    free(load);
}

#endif
