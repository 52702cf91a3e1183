#ifndef PROXYARPD_CPACKETFLOOD_SHIM_H
#define PROXYARPD_CPACKETFLOOD_SHIM_H
// The traffic generator of `proxyarpd-lab bench` (lab only; the daemon never uses it):
// an AF_PACKET socket that sends one ARP request frame at a paced rate with sendmmsg,
// and a receiver thread that counts ARP replies from a given sender IP with recvmmsg.
// Written in C so that the generator is not the bottleneck. Header only; nothing to link.
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <sched.h>
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
extern int sendmmsg(int sockfd, struct paf_mmsghdr *msgvec, unsigned int vlen, int flags);
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

/// The outcome of one paced step.
typedef struct {
    uint64_t offered;      // frames the schedule asked for
    uint64_t sent;         // frames the kernel accepted
    uint64_t send_errors;  // sendmmsg calls that failed (ENOBUFS...)
    uint64_t replies;      // ARP replies from the watched sender IP
    uint64_t other;        // other frames the receiver read
    double send_seconds;   // from the first send to the last
    int pinned;            // 1 when the sender was pinned to the requested CPU
} paf_step_result;

static inline uint64_t paf_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
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

/// One step: starts a receiver on `receive_fd` counting ARP replies whose sender IP is
/// `watched_ip_be`, then sends `frame` on `send_fd` at `rate` frames/s for `seconds`, in
/// sendmmsg batches of `batch` frames paced on a monotonic schedule, from a thread pinned
/// to `cpu` (when >= 0), waits `tail_ms` for late replies and stops the receiver.
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
    paf_receiver receiver;
    memset(&receiver, 0, sizeof receiver);
    receiver.fd = receive_fd;
    receiver.sender_ip_be = watched_ip_be;
    receiver.target_ip_be = requester_ip_be;
    pthread_t thread;
    if (pthread_create(&thread, NULL, paf_receive_loop, &receiver) != 0) return -1;
    usleep(50000);

    struct paf_mmsghdr messages[1024];
    struct iovec vector = {(void *)frame, (size_t)length};
    for (int i = 0; i < batch; i++) {
        memset(&messages[i], 0, sizeof messages[i]);
        messages[i].msg_hdr.msg_iov = &vector;
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    uint64_t total = (uint64_t)((double)rate * seconds);
    uint64_t start = paf_now_ns();
    uint64_t offered = 0;
    while (offered < total) {
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
        uint64_t want = total - offered < (uint64_t)batch ? total - offered : (uint64_t)batch;
        int sent = sendmmsg(send_fd, messages, (unsigned int)want, 0);
        if (sent > 0) out->sent += (uint64_t)sent;
        else out->send_errors++;
        offered += want;
    }
    out->send_seconds = (double)(paf_now_ns() - start) / 1e9;
    out->offered = offered;
    usleep((useconds_t)tail_ms * 1000);
    __atomic_store_n(&receiver.stop, 1, __ATOMIC_RELEASE);
    pthread_join(thread, NULL);
    out->replies = receiver.replies;
    out->other = receiver.other;
    return 0;
}

#endif
