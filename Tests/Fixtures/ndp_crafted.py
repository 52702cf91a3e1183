# Crafted Neighbor Solicitations (scapy), shared by make-crafted-captures.py (which writes
# ndp-crafted.pcap) and capture-linux-ndp.sh (which sends them to a real kernel to record
# which ones Linux answers). See README.md in this folder.
from scapy.all import Ether, Dot1Q, IPv6, IPv6ExtHdrDestOpt, ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, Raw, raw

CLIENT_MAC = "02:00:00:00:0a:01"
HOST_MAC = "02:00:00:00:0b:01"
CLIENT = "2001:db8::1"
TARGET = "2001:db8::2"
SOLICITED = "ff02::1:ff00:2"
SOLICITED_MAC = "33:33:ff:00:00:02"


def ns(src=CLIENT, dst=SOLICITED, target=TARGET, hlim=255, code=0, slla=True, eth_dst=SOLICITED_MAC):
    packet = IPv6(src=src, dst=dst, hlim=hlim) / ICMPv6ND_NS(tgt=target, code=code)
    if slla:
        packet = packet / ICMPv6NDOptSrcLLAddr(lladdr=CLIENT_MAC)
    return Ether(src=CLIENT_MAC, dst=eth_dst) / packet


def with_bad_checksum(frame):
    frame = Ether(raw(frame))
    frame[ICMPv6ND_NS].cksum = frame[ICMPv6ND_NS].cksum ^ 0x5555
    return frame


def frames():
    """(frame, what) pairs; the order is the frame numbers in README.md."""
    base = IPv6(src=CLIENT, dst=SOLICITED, hlim=255)
    zero_length_option = Ether(src=CLIENT_MAC, dst=SOLICITED_MAC) / base / ICMPv6ND_NS(tgt=TARGET) / Raw(b"\x01\x00" + bytes.fromhex(CLIENT_MAC.replace(":", "")))
    truncated_option = Ether(src=CLIENT_MAC, dst=SOLICITED_MAC) / base / ICMPv6ND_NS(tgt=TARGET) / Raw(b"\x01\x02" + bytes.fromhex(CLIENT_MAC.replace(":", "")))
    return [
        (ns(), "valid multicast solicitation with SLLA"),
        (with_bad_checksum(ns()), "bad ICMPv6 checksum"),
        (ns(hlim=64), "hop limit 64"),
        (ns(code=1), "ICMPv6 code 1"),
        (zero_length_option, "option of length 0"),
        (truncated_option, "option length 2 (16 bytes) with 6 bytes left"),
        (ns(target="ff02::1"), "multicast target"),
        (ns(src="ff02::1"), "multicast IPv6 source"),
        (Ether(src=CLIENT_MAC, dst=SOLICITED_MAC) / IPv6(src=CLIENT, dst=SOLICITED, hlim=255) / IPv6ExtHdrDestOpt() / ICMPv6ND_NS(tgt=TARGET) / ICMPv6NDOptSrcLLAddr(lladdr=CLIENT_MAC),
            "destination options header before ICMPv6"),
        (Ether(src=CLIENT_MAC, dst=SOLICITED_MAC) / Dot1Q(vlan=10) / IPv6(src=CLIENT, dst=SOLICITED, hlim=255) / ICMPv6ND_NS(tgt=TARGET) / ICMPv6NDOptSrcLLAddr(lladdr=CLIENT_MAC),
            "802.1Q VLAN 10"),
        (ns(dst=TARGET, slla=False, eth_dst=HOST_MAC), "unicast solicitation without SLLA"),
        (ns(src="::", slla=True), "DAD probe (source ::) carrying an SLLA"),
        (Ether(src=CLIENT_MAC, dst=SOLICITED_MAC) / Dot1Q(vlan=0, prio=5) / IPv6(src=CLIENT, dst=SOLICITED, hlim=255) / ICMPv6ND_NS(tgt=TARGET) / ICMPv6NDOptSrcLLAddr(lladdr=CLIENT_MAC),
            "priority tag (VLAN 0)"),
        (ns(target="2001:db8::77", dst="ff02::1:ff00:77", eth_dst="33:33:ff:00:00:77"), "target nobody owns"),
        (ns(dst="ff02::1:ff00:3"), "sent to another solicited-node group than the target's"),
        (Ether(raw(ns())[:70]), "truncated inside the ICMPv6 message"),
    ]


def advertisements():
    """Advertisements from a foreign host (02:00:00:00:0c:01) claiming 2001:db8::2."""
    from scapy.all import ICMPv6ND_NA, ICMPv6NDOptDstLLAddr
    rogue = "02:00:00:00:0c:01"
    return [
        (Ether(src=rogue, dst="33:33:00:00:00:01") / IPv6(src=TARGET, dst="ff02::1", hlim=255)
            / ICMPv6ND_NA(tgt=TARGET, R=0, S=0, O=1) / ICMPv6NDOptDstLLAddr(lladdr=rogue),
            "unsolicited advertisement of 2001:db8::2 from a foreign MAC"),
        (Ether(src=rogue, dst=CLIENT_MAC) / IPv6(src=TARGET, dst=CLIENT, hlim=255)
            / ICMPv6ND_NA(tgt=TARGET, R=0, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=rogue),
            "solicited advertisement of 2001:db8::2 from a foreign MAC"),
    ]
