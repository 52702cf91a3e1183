// The I/O layer's threads, wake signals and clocks live in ProxyARPPlatform; its users see
// them through ProxyARPIO as before.
@_exported import ProxyARPPlatform

// The XDP fast path the pcap I/O drives (XDPFastPath, FastPath) comes with ProxyARPIO too.
@_exported import ProxyARPXDP
