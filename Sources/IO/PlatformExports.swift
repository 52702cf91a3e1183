// The I/O layer's threads, wake signals and clocks live in ProxyARPPlatform; its users see
// them through ProxyARPIO as before.
@_exported import ProxyARPPlatform
