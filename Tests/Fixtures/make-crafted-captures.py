# Builds Tests/Fixtures/vlan-scope.pcap with scapy (see Tests/Fixtures/README.md).
from scapy.all import Ether, Dot1Q, Dot1AD, ARP, wrpcap
client = "02:00:00:00:0a:01"
req = ARP(op=1, hwsrc=client, psrc="198.18.0.1", hwdst="00:00:00:00:00:00", pdst="198.18.0.100")
frames = [
    Ether(src=client, dst="ff:ff:ff:ff:ff:ff") / Dot1Q(vlan=10) / req,               # 1: VID 10
    Ether(src=client, dst="ff:ff:ff:ff:ff:ff") / Dot1Q(vlan=0, prio=5) / req,        # 2: priority tag (VID 0)
    Ether(src=client, dst="ff:ff:ff:ff:ff:ff") / Dot1AD(vlan=20) / Dot1Q(vlan=10) / req,  # 3: QinQ 20/10
    Ether(src="02:00:00:00:0c:01", dst="ff:ff:ff:ff:ff:ff") / Dot1Q(vlan=10)
        / ARP(op=2, hwsrc="02:00:00:00:0c:01", psrc="198.18.0.100", hwdst="02:00:00:00:0c:01", pdst="198.18.0.100"),  # 4: GARP reply on VID 10
]
wrpcap("vlan-scope.pcap", frames)

# foreign-claims.pcap: another host (02:00:00:00:0c:01) using 198.18.0.100 as its own.
rogue = "02:00:00:00:0c:01"
claims = [
    Ether(src=rogue, dst="ff:ff:ff:ff:ff:ff")
        / ARP(op=1, hwsrc=rogue, psrc="198.18.0.100", hwdst="00:00:00:00:00:00", pdst="198.18.0.1"),   # 1: request with the VIP as sender
    Ether(src=rogue, dst="ff:ff:ff:ff:ff:ff")
        / ARP(op=1, hwsrc=rogue, psrc="198.18.0.100", hwdst="00:00:00:00:00:00", pdst="198.18.0.100"), # 2: gratuitous request
]
wrpcap("foreign-claims.pcap", claims)

# ndp-crafted.pcap: the crafted solicitations of ndp_crafted.py, then foreign advertisements.
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ndp_crafted import frames as ndp_frames, advertisements as ndp_advertisements
wrpcap("ndp-crafted.pcap", [frame for frame, _ in ndp_frames() + ndp_advertisements()])
