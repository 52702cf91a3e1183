# Sends the crafted solicitations of ndp_crafted.py on the interface given as argument,
# 0.3 s apart, so that a capture records which ones the kernel answers.
import sys, time
sys.path.insert(0, __import__("os").path.dirname(__file__))
from scapy.all import sendp
from ndp_crafted import frames

for frame, _ in frames():
    sendp(frame, iface=sys.argv[1], verbose=False)
    time.sleep(0.3)
