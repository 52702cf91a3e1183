/// The frames of one announcement round for a VIP: what tells the LAN that `mac` is the
/// VIP's agent now.
public enum AnnouncementFrames {
    /// One round: both gratuitous ARP forms (request, then reply) for an IPv4 VIP; one
    /// unsolicited Neighbor Advertisement (to ff02::1, S=0, O=1, target link-layer option)
    /// for an IPv6 VIP.
    public static func round(of vip: IPAddress, mac: MACAddress) -> [[UInt8]] {
        switch vip {
        case .v4(let address):
            [ARPFrames.gratuitousRequest(mac: mac, vip: address), ARPFrames.gratuitousReply(mac: mac, vip: address)]
        case .v6(let address):
            [NDPFrames.unsolicitedAdvertisement(mac: mac, vip: address)]
        }
    }
}
