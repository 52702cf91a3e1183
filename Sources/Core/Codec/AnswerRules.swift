/// The answer rules of ARCHITECTURE.md §6, as one pure function from a frame and an
/// adapter's ``AnswerView`` to an ``AnswerDecision``.
///
/// Order of the rules:
/// 1. Not ARP → ignore `.notARP`; malformed → ignore `.malformed(reason)` (never a reply).
///    Tagged with a VLAN ID other than 0 → ignore `.otherVLAN`: the adapter's untagged
///    segment is the only one it serves, as the kernel drops such frames (a VLAN is served
///    by listing its kernel interface, e.g. `eth0.10`, as an adapter). A priority tag (VID
///    0) counts as untagged, and the reply to it is untagged.
/// 2. A gratuitous ARP (either form) for one of our addresses (watched VIPs or this
///    adapter's proxy list): from any other MAC → `.conflict`; from one of our MACs →
///    `.ownAnnouncement` when the VIP awaits confirmation (or the view says all do), else
///    ignore `.announcementNotAwaited`. Never answered. For any other address → ignore
///    `.announcementNotOurs`.
/// 3. A non-gratuitous reply: from one of our MACs → ignore `.ownFrame`; claiming one of
///    our addresses from another MAC → `.conflict`; else ignore `.notARequest`.
/// 4. A request (broadcast, unicast, or RFC 5227 probe) whose sender IP is one of our
///    addresses, from another MAC, is a `.conflict` (that host uses our VIP), never
///    answered. Otherwise it is answered when: its sender MAC
///    is not one of ours (`.ownFrame`), its target IP is on the proxy list
///    (`.targetNotOurs`), its Ethernet destination is broadcast or the adapter's MAC
///    (`.notForUs`), and its sender MAC is unicast (`.senderNotUnicast`). The reply goes
///    to the ARP sender hardware address (as Linux does, even when the Ethernet source
///    differs), untagged, and for a probe carries a `.probe` observation.
public enum AnswerRules {
    /// Decides what to do with `frame` on the adapter described by `view`.
    /// Pure, never traps, never allocates.
    public static func decide(_ frame: UnsafeRawBufferPointer, view: AnswerView) -> AnswerDecision {
        switch FrameParser.parse(frame) {
        case .notARP: .ignore(.notARP)
        case .malformed(let reason): .ignore(.malformed(reason))
        case .arp(let parsed): decide(parsed, view: view)
        }
    }

    /// Decides what to do with an already parsed ARP frame.
    public static func decide(_ frame: ARPFrame, view: AnswerView) -> AnswerDecision {
        guard isUntagged(frame.ethernet.tags) else { return .ignore(.otherVLAN) }
        let arp = frame.arp
        let senderIsOurs = view.ownMACs.contains(arp.senderMAC)
        switch frame.kind {
        case .gratuitousRequest, .gratuitousReply:
            let vip = arp.senderIP
            guard isOurs(vip, view) else { return .ignore(.announcementNotOurs) }
            guard senderIsOurs else { return .observe(.conflict(vip: vip, claimedBy: arp.senderMAC)) }
            if let awaited = view.awaitingConfirmation, !awaited.contains(vip) {
                return .ignore(.announcementNotAwaited)
            }
            return .observe(.ownAnnouncement(vip: vip, mac: arp.senderMAC))

        case .reply:
            if senderIsOurs { return .ignore(.ownFrame) }
            if isOurs(arp.senderIP, view) { return .observe(.conflict(vip: arp.senderIP, claimedBy: arp.senderMAC)) }
            return .ignore(.notARequest)

        case .request, .unicastRequest, .probe:
            if senderIsOurs { return .ignore(.ownFrame) }
            // Another host using one of our VIPs as its own address: a claim, not answered.
            // One look-up (the watched set holds every VIP of every proxy list): it is paid
            // by every request, whatever its target.
            if view.watchedVIPs.contains(arp.senderIP) {
                return .observe(.conflict(vip: arp.senderIP, claimedBy: arp.senderMAC))
            }
            guard view.proxyList.contains(arp.targetIP) else { return .ignore(.targetNotOurs) }
            let destination = frame.ethernet.destination
            guard destination.isBroadcast || destination == view.adapterMAC else { return .ignore(.notForUs) }
            guard arp.senderMAC.isUnicast else { return .ignore(.senderNotUnicast) }
            let plan = ARPReplyPlan(
                adapterMAC: view.adapterMAC,
                vip: arp.targetIP,
                requesterMAC: arp.senderMAC,
                requesterIP: arp.senderIP,
                tags: VLANTags()
            )
            let observation: ARPObservation? =
                frame.kind == .probe ? .probe(vip: arp.targetIP, from: arp.senderMAC) : nil
            return .reply(plan, observation: observation)
        }
    }

    /// Decides on a frame held in an array (tests and tools).
    public static func decide(_ frame: [UInt8], view: AnswerView) -> AnswerDecision {
        frame.withUnsafeBytes { decide($0, view: view) }
    }

    /// No tag, or only priority tags (VLAN ID 0).
    @inline(__always)
    private static func isUntagged(_ tags: VLANTags) -> Bool {
        for index in 0..<tags.count where tags[index].vlanID != 0 { return false }
        return true
    }

    @inline(__always)
    private static func isOurs(_ address: IPv4Address, _ view: AnswerView) -> Bool {
        view.watchedVIPs.contains(address) || view.proxyList.contains(address)
    }
}
