#!/usr/bin/env bash
# Captures real Linux Neighbor Discovery between two network namespaces into
# linux-ndp.pcap (see README.md in this folder). Run as root from this folder:
#   ./capture-linux-ndp.sh
# Host A (client) 02:00:00:00:0a:01 2001:db8::1, host B (the kernel answering for its own
# addresses) 02:00:00:00:0b:01 2001:db8::2. Everything stays inside the two namespaces.
# The malformed solicitations (ndp-kernel-drops.py, scapy) are sent to B to record that the
# kernel drops them: the capture shows no advertisement after them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
prefix="ndp$$"
a="${prefix}a"; b="${prefix}b"
out="${1:-$here/linux-ndp.pcap}"
cleanup() {
    [[ -n "${dump:-}" ]] && kill "$dump" 2>/dev/null && wait "$dump" 2>/dev/null || true
    ip netns del "$a" 2>/dev/null || true
    ip netns del "$b" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$a"; ip netns add "$b"
ip link add va netns "$a" address 02:00:00:00:0a:01 type veth peer name vb netns "$b" address 02:00:00:00:0b:01
for ns in "$a" "$b"; do
    dev=$([[ $ns == "$a" ]] && echo va || echo vb)
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=0"
    # No router solicitations or MLD reports in the capture: only neighbour discovery.
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.router_solicitations=0"
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.force_mld_version=2"
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.addr_gen_mode=1"   # no link-local address
done
# ndisc_notify=1: B sends an unsolicited advertisement when DAD of a new address completes.
ip netns exec "$b" sysctl -qw net.ipv6.conf.vb.ndisc_notify=1
ip netns exec "$a" ip addr add 2001:db8::1/64 dev va nodad
ip netns exec "$b" ip addr add 2001:db8::2/64 dev vb nodad
ip netns exec "$a" ip link set va up
ip netns exec "$b" ip link set vb up
ip netns exec "$a" ip link set lo up
ip netns exec "$b" ip link set lo up
sleep 1.5   # let MLD reports of link up pass before the capture starts
ip netns exec "$b" tcpdump -i vb -U -w "$out" -s 0 '(icmp6 and (ip6[40] == 135 or ip6[40] == 136)) or (ip6 and ip6[6] == 60) or vlan' 2>/dev/null &
dump=$!
sleep 1
# 1-2: ndisc6 from A: a multicast solicitation with SLLA and B's solicited advertisement.
ip netns exec "$a" ndisc6 -1 -n -r 1 2001:db8::2 va >/dev/null
sleep 0.3
# 3-4: A adds 2001:db8::2 with DAD: A's probe (source ::) and B's defence to all-nodes.
ip netns exec "$a" ip addr add 2001:db8::2/64 dev va
sleep 2.5
ip netns exec "$a" ip addr del 2001:db8::2/64 dev va
# 5-6: B adds 2001:db8::3 with DAD: B's own probe, unanswered, then the unsolicited
# advertisement Linux sends when DAD completes (to ff02::1, O=1, S=0, TLLA).
ip netns exec "$b" ip addr add 2001:db8::3/64 dev vb
sleep 2.5
# Crafted solicitations from A's side (scapy): which the kernel answers, which it drops.
ip netns exec "$a" python3 "$here/ndp-kernel-drops.py" va
sleep 1
