// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//
// proxyarpd's XDP fast path (README "XDP fast path", ARCHITECTURE.md §6).
//
// Attached to every managed adapter. For a *plain* ARP request (untagged Ethernet, htype 1,
// ptype 0x0800, hlen 6, plen 4, opcode 1, sender IP neither 0.0.0.0 nor the target IP, sender
// MAC not one of ours, sender IP not a watched VIP):
//   - target on this adapter's proxy list (map `answers`, key ifindex + VIP): the request is
//     rewritten in place into the reply AnswerRules would send (unicast to the ARP sender
//     hardware address, from the agent MAC, 42 bytes) and sent back with XDP_TX, provided the
//     Ethernet destination is broadcast or the adapter's MAC and the sender MAC is unicast;
//   - target an active VIP whose agent is another adapter: XDP_DROP (counted), since neither
//     the kernel nor this adapter's capture has anything to do with it.
// Everything else (VLAN-tagged frames, probes, gratuitous ARPs, replies, conflicts, malformed
// frames, requests for other addresses) is XDP_PASS: the pcap path sees it exactly as before.
//
// The daemon owns the maps: it writes `adapters`, `own_macs`, `vips` and `answers` when it
// publishes an answer table, and reads the per-CPU counters at scrape/status time.
//
// VLAN tags the kernel or the driver already took off the frame (hardware VLAN stripping, or a
// bridge that untagged the frame before forwarding it over a veth) are invisible in the frame's
// bytes. Built with PROXYARP_DEV_BOUND (the object the daemon attaches, loaded device-bound in
// driver mode), the program asks the driver with the bpf_xdp_metadata_rx_vlan_tag kfunc and
// passes any frame that had a tag with a VLAN ID, or whose tag the driver cannot report. The
// portable build (for BPF_PROG_TEST_RUN and labs) leaves that check out: frames there carry
// their tags in their bytes.
//
// `proxyarp_pass` (portable build only) is a plain XDP_PASS program for labs: on a veth,
// XDP_TX frames are only delivered when the peer has an XDP program of its own (or NAPI/GRO).

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_HEADER_LENGTH 14
#define ARP_BODY_LENGTH 28
#define ARP_FRAME_LENGTH (ETH_HEADER_LENGTH + ARP_BODY_LENGTH)
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_IPV4 0x0800
#define ERRNO_ENODATA 61

// `vips` flags.
#define VIP_WATCHED 1u  // a configured VIP: a request *from* it is a conflict (pass)
#define VIP_ACTIVE 2u   // on some adapter's proxy list: a request *for* it elsewhere is dropped

/// Key of `answers`: an adapter (ifindex) and a VIP (network byte order).
struct answer_key {
    __u32 ifindex;
    __u32 vip;
};

/// Value of `answers`: the agent MAC that answers.
struct answer_value {
    __u8 mac[6];
    __u16 reserved;
};

/// Value of `adapters`: the adapter's own MAC and its counter slot.
struct adapter_value {
    __u8 mac[6];
    __u16 reserved;
    __u32 slot;
};

/// Per-adapter counters (per CPU, summed by the daemon).
struct adapter_stats {
    __u64 replies;   // XDP_TX replies
    __u64 dropped;   // plain requests for a VIP served by another adapter
    __u64 passed;    // frames handed to the stack (and the pcap path)
    __u64 offloaded_vlan;  // of those: a VLAN tag outside the frame (ID not 0), or unknown
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 65536);  // resized by the loader
    __type(key, struct answer_key);
    __type(value, struct answer_value);
} answers SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 65536);  // resized by the loader
    __type(key, __u32);
    __type(value, __u32);
} vips SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 256);
    __type(key, __u32);
    __type(value, struct adapter_value);
} adapters SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 256);
    __type(key, __u64);  // the MAC in the low six bytes, in wire order
    __type(value, __u8);
} own_macs SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 256);
    __type(key, __u32);
    __type(value, struct adapter_stats);
} adapter_counters SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __uint(max_entries, 65536);  // resized by the loader
    __type(key, __u32);
    __type(value, __u64);
} vip_replies SEC(".maps");

static __always_inline __u64 mac_key(const __u8 *mac) {
    __u64 key = 0;
    __builtin_memcpy(&key, mac, 6);
    return key;
}

static __always_inline int is_broadcast(const __u8 *mac) {
    return (mac[0] & mac[1] & mac[2] & mac[3] & mac[4] & mac[5]) == 0xff;
}

static __always_inline int same_mac(const __u8 *a, const __u8 *b) {
    return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] && a[4] == b[4] && a[5] == b[5];
}

static __always_inline int pass(struct adapter_stats *stats) {
    if (stats) stats->passed += 1;
    return XDP_PASS;
}

#ifdef PROXYARP_DEV_BOUND
extern int bpf_xdp_metadata_rx_vlan_tag(const struct xdp_md *ctx, __be16 *vlan_proto, __u16 *vlan_tci) __ksym;
#endif

SEC("xdp")
int proxyarp_xdp(struct xdp_md *ctx) {
    __u32 ifindex = ctx->ingress_ifindex;
    struct adapter_value *adapter = bpf_map_lookup_elem(&adapters, &ifindex);
    if (!adapter) return XDP_PASS;
    __u32 slot = adapter->slot;
    struct adapter_stats *stats = bpf_map_lookup_elem(&adapter_counters, &slot);
#ifdef PROXYARP_DEV_BOUND
    {
        __be16 vlan_proto = 0;
        __u16 vlan_tci = 0;
        int tagged = bpf_xdp_metadata_rx_vlan_tag(ctx, &vlan_proto, &vlan_tci);
        // -ENODATA: no tag outside the frame. 0 with VLAN ID 0: a priority tag, untagged for
        // the answer rules (and the reply is untagged). Anything else: not ours to answer.
        if (tagged != -ERRNO_ENODATA && (tagged != 0 || (vlan_tci & 0x0fff) != 0)) {
            if (stats) stats->offloaded_vlan += 1;
            return pass(stats);
        }
    }
#endif

    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    if (data + ARP_FRAME_LENGTH > data_end) return pass(stats);
    __u8 *frame = data;
    // Untagged ARP only: tagged frames (even priority tags) go to the pcap path.
    if (frame[12] != (ETHERTYPE_ARP >> 8) || frame[13] != (ETHERTYPE_ARP & 0xff)) return pass(stats);
    __u8 *arp = frame + ETH_HEADER_LENGTH;
    if (arp[0] != 0 || arp[1] != 1) return pass(stats);                        // htype 1
    if (arp[2] != (ETHERTYPE_IPV4 >> 8) || arp[3] != 0) return pass(stats);     // ptype 0x0800
    if (arp[4] != 6 || arp[5] != 4) return pass(stats);                         // hlen, plen
    if (arp[6] != 0 || arp[7] != 1) return pass(stats);                         // a request
    __u8 *sender_mac = arp + 8;
    __u32 sender_ip, target_ip;
    __builtin_memcpy(&sender_ip, arp + 14, 4);
    __builtin_memcpy(&target_ip, arp + 24, 4);
    if (sender_ip == 0 || sender_ip == target_ip) return pass(stats);  // probe, announcement
    __u64 sender_key = mac_key(sender_mac);
    if (bpf_map_lookup_elem(&own_macs, &sender_key)) return pass(stats);  // our own frame
    if (bpf_map_lookup_elem(&vips, &sender_ip)) return pass(stats);       // a claim on a VIP

    struct answer_key key = {.ifindex = ifindex, .vip = target_ip};
    struct answer_value *answer = bpf_map_lookup_elem(&answers, &key);
    if (!answer) {
        __u32 *flags = bpf_map_lookup_elem(&vips, &target_ip);
        if (flags && (*flags & VIP_ACTIVE)) {
            if (stats) stats->dropped += 1;
            return XDP_DROP;
        }
        return pass(stats);
    }
    if (!is_broadcast(frame) && !same_mac(frame, adapter->mac)) return pass(stats);
    if ((sender_mac[0] & 1) || mac_key(sender_mac) == 0) return pass(stats);  // not unicast

    // The reply, in place: Ethernet requester <- agent; opcode 2; sender (agent MAC, VIP);
    // target (requester MAC, requester IP).
    __u8 requester[6];
    __builtin_memcpy(requester, sender_mac, 6);
    __builtin_memcpy(frame, requester, 6);
    __builtin_memcpy(frame + 6, answer->mac, 6);
    arp[7] = 2;
    __builtin_memcpy(arp + 8, answer->mac, 6);
    __builtin_memcpy(arp + 14, &target_ip, 4);
    __builtin_memcpy(arp + 18, requester, 6);
    __builtin_memcpy(arp + 24, &sender_ip, 4);
    long extra = (long)(data_end - data) - ARP_FRAME_LENGTH;
    if (extra > 0 && bpf_xdp_adjust_tail(ctx, (int)-extra) != 0) return XDP_DROP;

    if (stats) stats->replies += 1;
    __u64 *count = bpf_map_lookup_elem(&vip_replies, &target_ip);
    if (count) {
        *count += 1;
    } else {
        __u64 one = 1;
        // Another CPU may have inserted it meanwhile: then count on the entry it made.
        if (bpf_map_update_elem(&vip_replies, &target_ip, &one, BPF_NOEXIST) != 0) {
            count = bpf_map_lookup_elem(&vip_replies, &target_ip);
            if (count) *count += 1;
        }
    }
    return XDP_TX;
}

#ifndef PROXYARP_DEV_BOUND
SEC("xdp")
int proxyarp_pass(struct xdp_md *ctx) {
    return XDP_PASS;
}
#endif

char LICENSE[] SEC("license") = "Dual BSD/GPL";
