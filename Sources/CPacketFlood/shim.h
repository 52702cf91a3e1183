#ifndef PROXYARPD_CPACKETFLOOD_SHIM_H
#define PROXYARPD_CPACKETFLOOD_SHIM_H
// The traffic generator of `proxyarpd-lab bench` (lab only; the daemon never uses it):
// a PACKET_MMAP TX ring (TPACKET_V2, PACKET_QDISC_BYPASS) that sends one ARP request frame,
// paced or as fast as the sending core allows, from a thread pinned to one CPU, and a
// receiver thread that counts ARP replies from a given sender IP with recvmmsg.
// Written in C so that the generator is not the bottleneck. Header only; nothing to link.
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>
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
    double busy_seconds;     // machine busy CPU (/proc/stat, all CPUs, all but idle+iowait) over send_seconds
    double lab_seconds;      // this process's CPU (all threads) + the machine's irq and softirq time over send_seconds
    int pinned;              // 1 when the sender was pinned to the requested CPU
    int ring;                // 1 when the TX ring with qdisc bypass was set up
} paf_step_result;

static inline uint64_t paf_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/// Busy ticks of the whole machine: the first line of /proc/stat, all fields but idle and
/// iowait (softirq included: where veth and the kernel's ARP run). -1 when unreadable.
static inline double paf_machine_busy_seconds(void) {
    FILE *file = fopen("/proc/stat", "re");
    if (!file) return -1;
    unsigned long long v[8] = {0};
    int n = fscanf(file, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
    fclose(file);
    if (n < 8) return -1;
    double ticks = (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]);
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

typedef struct {
    int fd;
    uint32_t sender_ip_be;
    uint32_t target_ip_be;
    volatile int stop;
    uint64_t replies;
    uint64_t other;
} paf_receiver;

static inline void *paf_receive_loop(void *context) {
    paf_receiver *receiver = (paf_receiver *)context;
    enum { N = 256, SNAP = 64 };
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
            uint32_t sender, target;
            memcpy(&sender, frame + 28, 4);
            memcpy(&target, frame + 38, 4);
            // A reply from the watched address to our requester (gratuitous replies, whose
            // target is the VIP itself, are not counted).
            if (messages[i].msg_len >= 42 && frame[12] == 0x08 && frame[13] == 0x06 && frame[20] == 0 &&
                frame[21] == 2 && sender == receiver->sender_ip_be && target == receiver->target_ip_be) {
                receiver->replies++;
            } else {
                receiver->other++;
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

/// One step: starts a receiver on `receive_fd` counting ARP replies whose sender IP is
/// `watched_ip_be` and target `requester_ip_be`, then sends `frame` from a TX ring on
/// `send_fd` for `seconds` at `rate` frames/s (batches of `batch` on a monotonic schedule),
/// or, when `rate` is 0, unpaced (as fast as the core transmits), from a thread pinned to
/// `cpu` (when >= 0); waits `tail_ms` for late replies and stops the receiver.
static inline int paf_run_step(int send_fd, int receive_fd, const uint8_t *frame, int length, uint32_t watched_ip_be,
                               uint32_t requester_ip_be,
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
    paf_receiver receiver;
    memset(&receiver, 0, sizeof receiver);
    receiver.fd = receive_fd;
    receiver.sender_ip_be = watched_ip_be;
    receiver.target_ip_be = requester_ip_be;
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

#endif
