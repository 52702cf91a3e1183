internal import CBPF
import Glibc
import Logging
import ProxyARPCore
import Synchronization

/// The XDP fast path: the embedded portable object (``XDPObject/bytes``) loaded once with
/// libbpf for its maps (and test runs), a device-bound copy of the answering program
/// (``XDPObject/boundBytes``) loaded per managed adapter on those maps and linked in driver
/// mode, and the maps kept equal to the published ``AnswerTable``.
///
/// Attachment is a BPF link (`bpf_link_create`), owned by this process: it goes away when
/// the daemon closes it (withdraw, shutdown) or dies (`kill -9` closes every descriptor),
/// and no other program can replace it meanwhile. Before linking, a program named
/// ``XDPObject/programName`` that something left attached the old way (netlink) is removed.
///
/// Capabilities: loading needs CAP_BPF and CAP_NET_ADMIN (the daemon loads as root, before
/// the privilege drop); reading an attached program's name needs CAP_SYS_ADMIN (start only);
/// map reads and writes go through the descriptors opened at load and need none; closing a
/// link needs none. Linking an adapter re-created later needs CAP_NET_ADMIN on the calling
/// thread, which the daemon's capture threads no longer have after the drop: such an
/// adapter is answered by pcap (logged), as its capture would be.
public final class XDPFastPath: FastPath {
    private struct Attachment {
        var ifindex: UInt32
        var mac: MACAddress
        /// The BPF link's descriptor; -1 when bound for test runs only.
        var link: Int32
        var mode: XDPAttachMode
        /// The device-bound object whose program the link runs (nil for test runs).
        var object: OpaquePointer?
    }

    private struct State {
        var object: OpaquePointer?
        var attached: [AdapterName: Attachment] = [:]
        /// The last table published (mirrored again when an adapter is attached).
        var table = AnswerTable.empty
        /// What the maps hold now.
        var answers: [AnswerKeyMirror: MACAddress] = [:]
        var vips: [IPv4Address: UInt32] = [:]
        var ownMACs: Set<MACAddress> = []
    }

    private struct AnswerKeyMirror: Hashable {
        var ifindex: UInt32
        var vip: IPv4Address
    }

    /// Counter slot per managed adapter (stable across re-creations: counts go on).
    private let slots: [AdapterName: UInt32]
    private let programFD: Int32
    /// The XDP_PASS program labs attach to veth peers.
    public let passProgramFD: Int32
    private let answersFD: Int32
    private let vipsFD: Int32
    private let adaptersFD: Int32
    private let ownMACsFD: Int32
    private let adapterCountersFD: Int32
    private let vipRepliesFD: Int32
    private let possibleCPUs: Int
    private let logger: Logger
    private let state: Mutex<State>
    /// Whether ``attach(adapter:mac:)`` links the program to a veth adapter. A reply sent with
    /// XDP_TX on a veth reaches the peer only if the peer runs an XDP program of its own (or
    /// GRO): otherwise every reply is lost without a trace. `io.fast_path: xdp` says the
    /// operator arranged that; `auto` leaves veth adapters to pcap.
    public let attachesToVeth: Bool

    /// The most adapters one program serves (the size of its adapter maps).
    public static let maximumAdapters = 256

    /// Loads the program with maps sized for `vipCapacity` VIPs (a VIP has at most two
    /// answer entries at once, during a make-before-break failover).
    /// - Throws: ``XDPError`` naming the libbpf step that failed.
    /// `attachesToVeth`: see ``attachesToVeth``.
    public init(adapters: [AdapterName], vipCapacity: Int, attachesToVeth: Bool = true, logger: Logger) throws(XDPError) {
        guard adapters.count <= Self.maximumAdapters else {
            throw XDPError(operation: "load", code: 0, detail: "more than \(Self.maximumAdapters) adapters")
        }
        proxyarpd_bpf_silence()
        let capacity = UInt32(clamping: max(1024, vipCapacity * 2 + 64))
        let loaded: Result<OpaquePointer, XDPError> = XDPObject.bytes.withUnsafeBytes { bytes in
            guard let object = proxyarpd_bpf_open_mem(bytes.baseAddress, bytes.count) else {
                return .failure(.libbpf("bpf_object__open_mem", -errno))
            }
            for name in ["answers", "vips", "vip_replies"] {
                let status = bpf_map__set_max_entries(bpf_object__find_map_by_name(object, name), capacity)
                if status != 0 {
                    bpf_object__close(object)
                    return .failure(.libbpf("bpf_map__set_max_entries(\(name))", status))
                }
            }
            let status = bpf_object__load(object)
            guard status == 0 else {
                bpf_object__close(object)
                return .failure(.libbpf("bpf_object__load", status))
            }
            return .success(object)
        }
        let object = try loaded.get()
        func program(_ name: String) -> Int32 { bpf_program__fd(bpf_object__find_program_by_name(object, name)) }
        func map(_ name: String) -> Int32 { bpf_map__fd(bpf_object__find_map_by_name(object, name)) }
        programFD = program(XDPObject.programName)
        passProgramFD = program(XDPObject.passProgramName)
        answersFD = map("answers")
        vipsFD = map("vips")
        adaptersFD = map("adapters")
        ownMACsFD = map("own_macs")
        adapterCountersFD = map("adapter_counters")
        vipRepliesFD = map("vip_replies")
        possibleCPUs = Int(max(1, libbpf_num_possible_cpus()))
        slots = Dictionary(uniqueKeysWithValues: Set(adapters).sorted().enumerated().map { ($1, UInt32($0)) })
        self.logger = logger
        self.attachesToVeth = attachesToVeth
        state = Mutex(State(object: object))
        let descriptors = [programFD, passProgramFD, answersFD, vipsFD, adaptersFD, ownMACsFD, adapterCountersFD, vipRepliesFD]
        if descriptors.contains(where: { $0 < 0 }) {
            shutdown()
            throw XDPError(operation: "bpf_object__load", code: 0, detail: "a program or map of the object is missing")
        }
    }

    deinit { shutdown() }

    // MARK: Attaching

    /// Loads the device-bound program for `adapter` (sharing this object's maps) and links it
    /// in driver mode.
    ///
    /// Driver mode only: a VLAN tag the driver or the kernel took off a frame is outside the
    /// frame's bytes, and only a device-bound program can ask for it
    /// (`bpf_xdp_metadata_rx_vlan_tag`). Generic XDP cannot see it, so a tagged request for a
    /// VIP would be answered untagged: an adapter without native XDP is answered by pcap.
    public func attach(adapter: AdapterName, mac: MACAddress) throws(XDPError) -> XDPAttachMode {
        let name = adapter.rawValue
        let ifindex = if_nametoindex(name)
        guard ifindex != 0 else { throw .libbpf("if_nametoindex", -errno, adapter: name) }
        if !attachesToVeth, proxyarpd_is_veth(name) == 1 {
            throw XDPError(adapter: name, operation: "attach", code: 0, detail:
                "a veth: XDP_TX replies reach its peer only if the peer runs an XDP program; io.fast_path auto answers it with pcap (xdp forces XDP)")
        }
        detach(adapter: adapter)
        removeLeftover(ifindex: ifindex, adapter: name)
        // Load, link and bind under the lock: the object pointer never leaves the state.
        let linked: Result<XDPAttachMode, XDPError> = state.withLock { state in
            guard let main = state.object else {
                return .failure(XDPError(adapter: name, operation: "load", code: 0, detail: "shut down"))
            }
            var boundProgramFD: Int32 = -1
            let loaded = XDPObject.boundBytes.withUnsafeBytes { bytes in
                proxyarpd_bpf_load_bound(bytes.baseAddress, bytes.count, main, Int32(ifindex), &boundProgramFD)
            }
            guard let object = loaded else {
                return .failure(XDPError(adapter: name, operation: "device-bound load", code: errno))
            }
            let mode = XDPAttachMode.driver
            let link = proxyarpd_bpf_xdp_link(boundProgramFD, Int32(ifindex), mode.flag)
            guard link >= 0 else {
                bpf_object__close(object)
                return .failure(XDPError(adapter: name, operation: "attach (driver mode)", code: -link))
            }
            // The link holds the program, and the program its maps: the object's own descriptors
            // (a dup of every map, the program, BTF) can go, leaving one descriptor per adapter.
            bpf_object__close(object)
            bind(adapter, Attachment(ifindex: ifindex, mac: mac, link: link, mode: mode, object: nil), into: &state)
            return .success(mode)
        }
        return try linked.get()
    }

    /// Binds `adapter` to `ifindex` in the maps without linking the program anywhere: for
    /// ``testRun(_:)``, whose frames arrive on the loopback device (ifindex 1).
    public func bindForTestRun(adapter: AdapterName, mac: MACAddress, ifindex: UInt32 = 1) {
        state.withLock { state in
            bind(adapter, Attachment(ifindex: ifindex, mac: mac, link: -1, mode: .generic, object: nil), into: &state)
        }
    }

    /// Records `attachment`, writes the adapter's map entry and mirrors its answers.
    private func bind(_ adapter: AdapterName, _ attachment: Attachment, into state: inout State) {
        let slot = slots[adapter] ?? UInt32(Self.maximumAdapters - 1)
        _ = update(adaptersFD, XDPMapLayout.bytes(of: attachment.ifindex),
                   XDPMapLayout.adapterValue(mac: attachment.mac, slot: slot), what: "adapters")
        state.attached[adapter] = attachment
        mirror(state.table, into: &state)
    }

    /// Unlinks the program from `adapter` and removes its entries.
    public func detach(adapter: AdapterName) {
        state.withLock { state in
            guard let attachment = state.attached.removeValue(forKey: adapter) else { return }
            if attachment.link >= 0 { close(attachment.link) }
            if let object = attachment.object { bpf_object__close(object) }
            _ = delete(adaptersFD, XDPMapLayout.bytes(of: attachment.ifindex))
            mirror(state.table, into: &state)
        }
    }

    /// Removes a program named ``XDPObject/programName`` attached the old way (netlink) to
    /// `ifindex`. One held by a live link (another running daemon) cannot be removed: then
    /// linking fails with EBUSY and the adapter stays on pcap.
    private func removeLeftover(ifindex: UInt32, adapter: String) {
        var driver: UInt32 = 0, generic: UInt32 = 0, hardware: UInt32 = 0
        guard proxyarpd_bpf_xdp_query(Int32(ifindex), &driver, &generic, &hardware) == 0 else { return }
        for (id, mode) in [(driver, XDPAttachMode.driver), (generic, .generic)] where id != 0 {
            var name = [CChar](repeating: 0, count: 17)
            let fd = proxyarpd_bpf_prog_name(id, &name)
            guard fd >= 0 else {
                logger.warning("xdp: cannot identify the program attached", metadata: [
                    "adapter": "\(adapter)", "id": "\(id)", "error": "\(String(cString: strerror(-fd)))",
                ])
                continue
            }
            defer { close(fd) }
            let programName = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard programName == XDPObject.programName else {
                logger.warning("xdp: another program is attached", metadata: [
                    "adapter": "\(adapter)", "id": "\(id)", "name": "\(programName)",
                ])
                continue
            }
            let status = proxyarpd_bpf_xdp_detach_if(Int32(ifindex), mode.flag, fd)
            logger.notice(status == 0 ? "xdp: removed a program an earlier instance left" : "xdp: could not remove an earlier program", metadata: [
                "adapter": "\(adapter)", "id": "\(id)", "mode": "\(mode)",
                "error": "\(status == 0 ? "none" : String(cString: strerror(-status)))",
            ])
        }
    }

    /// The adapters linked now (test-run bindings excluded), with their mode.
    public var attachments: [AdapterName: XDPAttachMode] {
        state.withLock { $0.attached.filter { $0.value.link >= 0 }.mapValues(\.mode) }
    }

    /// The id the kernel gave the answering program (as `bpftool prog` and `ip link` show it).
    public var programID: UInt32 { proxyarpd_bpf_prog_id(programFD) }

    /// Unlinks every adapter and releases the program and its maps. Idempotent.
    public func shutdown() {
        state.withLock { state in
            for attachment in state.attached.values {
                if attachment.link >= 0 { close(attachment.link) }
                if let object = attachment.object { bpf_object__close(object) }
            }
            state.attached = [:]
            if let object = state.object { bpf_object__close(object) }
            state.object = nil
        }
    }

    // MARK: Maps

    /// Mirrors `table` into the maps: new and changed answers first, then the VIP flags, then
    /// removals, so a VIP moving from A to B is answered by B before A lets go. Only what
    /// changed since the last table is written (see ``AddressSet/changes(from:)``).
    public func publish(_ table: AnswerTable) {
        state.withLock { state in
            guard state.object != nil else { return }
            let old = state.table
            state.table = table
            mirrorChanges(from: old, to: table, into: &state)
        }
    }

    /// The incremental mirror: the VIPs that entered or left a proxy list or the watched set
    /// between `old` and `new`, written in make-before-break order.
    private func mirrorChanges(from old: AnswerTable, to new: AnswerTable, into state: inout State) {
        var upserts: [(AnswerKeyMirror, MACAddress)] = []
        var deletions: [AnswerKeyMirror] = []
        var touched: Set<IPv4Address> = []
        for adapter in Set(old.proxyLists.keys).union(new.proxyLists.keys) {
            let before = old.proxyLists[adapter]
            let after = new.proxyLists[adapter]
            if before == after { continue }
            let ifindex = state.attached[adapter]?.ifindex
            let (added, removed): ([IPv4Address], [IPv4Address])
            if let after, let before, after.agentMAC == before.agentMAC {
                (added, removed) = after.vips.changes(from: before.vips)
            } else {  // a new, removed or re-addressed list: all of it
                (added, removed) = (after?.vips.elements ?? [], before?.vips.elements.filter { !(after?.vips.contains($0) ?? false) } ?? [])
            }
            touched.formUnion(added)
            touched.formUnion(removed)
            guard let ifindex else { continue }
            if let mac = after?.agentMAC { upserts += added.map { (AnswerKeyMirror(ifindex: ifindex, vip: $0), mac) } }
            deletions += removed.map { AnswerKeyMirror(ifindex: ifindex, vip: $0) }
        }
        let watched = new.watchedVIPs.changes(from: old.watchedVIPs)
        touched.formUnion(watched.added)
        touched.formUnion(watched.removed)
        var ownMACs = new.ownMACs
        for attachment in state.attached.values { ownMACs.insert(attachment.mac) }
        apply(upserts: upserts, deletions: deletions, touched: touched, ownMACs: ownMACs, table: new, into: &state)
    }

    /// The full mirror (after an adapter was attached or detached: its ifindex changed).
    private func mirror(_ table: AnswerTable, into state: inout State) {
        var answers: [AnswerKeyMirror: MACAddress] = [:]
        for (adapter, list) in table.proxyLists {
            guard let ifindex = state.attached[adapter]?.ifindex else { continue }
            for vip in list.vips.elements { answers[AnswerKeyMirror(ifindex: ifindex, vip: vip)] = list.agentMAC }
        }
        let upserts = answers.map { ($0.key, $0.value) }
        let deletions = state.answers.keys.filter { answers[$0] == nil }
        var touched = Set(state.vips.keys)
        touched.formUnion(table.watchedVIPs.elements)
        for list in table.proxyLists.values { touched.formUnion(list.vips.elements) }
        var ownMACs = table.ownMACs
        for attachment in state.attached.values { ownMACs.insert(attachment.mac) }
        apply(upserts: upserts, deletions: deletions, touched: touched, ownMACs: ownMACs, table: table, into: &state)
    }

    /// Writes the maps in make-before-break order: own MACs added, answers added or changed,
    /// the flags of every `touched` VIP, answers removed, flags removed, own MACs removed.
    private func apply(
        upserts: [(AnswerKeyMirror, MACAddress)], deletions: [AnswerKeyMirror], touched: Set<IPv4Address>,
        ownMACs: Set<MACAddress>, table: AnswerTable, into state: inout State
    ) {
        for mac in ownMACs.subtracting(state.ownMACs)
        where update(ownMACsFD, XDPMapLayout.macKey(mac), [1], what: "own_macs") {
            state.ownMACs.insert(mac)
        }
        // Make.
        var unanswered: Set<IPv4Address> = []
        for (key, mac) in upserts where state.answers[key] != mac {
            if update(answersFD, XDPMapLayout.answerKey(ifindex: key.ifindex, vip: key.vip), XDPMapLayout.answerValue(mac), what: "answers") {
                state.answers[key] = mac
            } else {
                unanswered.insert(key.vip)  // left to pcap: not marked active, so never dropped
            }
        }
        var removedFlags: [IPv4Address] = []
        for vip in touched {
            var flags: UInt32 = table.watchedVIPs.contains(vip) ? XDPMapLayout.vipWatched : 0
            if !unanswered.contains(vip), table.proxyLists.values.contains(where: { $0.contains(vip) }) {
                flags |= XDPMapLayout.vipActive
            }
            if flags == 0 {
                if state.vips[vip] != nil { removedFlags.append(vip) }
            } else if state.vips[vip] != flags,
                update(vipsFD, XDPMapLayout.address(vip), XDPMapLayout.bytes(of: flags), what: "vips")
            {
                state.vips[vip] = flags
            }
        }
        // Break.
        for key in deletions where state.answers[key] != nil {
            if delete(answersFD, XDPMapLayout.answerKey(ifindex: key.ifindex, vip: key.vip)) { state.answers[key] = nil }
        }
        for vip in removedFlags where delete(vipsFD, XDPMapLayout.address(vip)) { state.vips[vip] = nil }
        for mac in state.ownMACs.subtracting(ownMACs) where delete(ownMACsFD, XDPMapLayout.macKey(mac)) {
            state.ownMACs.remove(mac)
        }
    }

    private func update(_ fd: Int32, _ key: [UInt8], _ value: [UInt8], what: String) -> Bool {
        let status = bpf_map_update_elem(fd, key, value, UInt64(BPF_ANY))
        if status != 0 {
            logger.warning("xdp: map update failed", metadata: ["map": "\(what)", "error": "\(String(cString: strerror(-status)))"])
        }
        return status == 0
    }

    private func delete(_ fd: Int32, _ key: [UInt8]) -> Bool {
        let status = bpf_map_delete_elem(fd, key)
        return status == 0 || status == -ENOENT
    }

    // MARK: Counters

    /// Replies, drops and passes on each managed adapter, summed over CPUs.
    public func adapterCounts() -> [AdapterName: FastPathCounts] {
        let stride = XDPMapLayout.adapterStatsLength
        var values = [UInt8](repeating: 0, count: stride * possibleCPUs)
        var result: [AdapterName: FastPathCounts] = [:]
        for (adapter, slot) in slots {
            let key = XDPMapLayout.bytes(of: slot)
            guard bpf_map_lookup_elem(adapterCountersFD, key, &values) == 0 else { continue }
            var counts = FastPathCounts()
            values.withUnsafeBytes { raw in
                for cpu in 0..<possibleCPUs {
                    counts.replies &+= raw.loadUnaligned(fromByteOffset: cpu * stride, as: UInt64.self)
                    counts.dropped &+= raw.loadUnaligned(fromByteOffset: cpu * stride + 8, as: UInt64.self)
                    counts.passed &+= raw.loadUnaligned(fromByteOffset: cpu * stride + 16, as: UInt64.self)
                    counts.offloadedVLAN &+= raw.loadUnaligned(fromByteOffset: cpu * stride + 24, as: UInt64.self)
                }
            }
            result[adapter] = counts
        }
        return result
    }

    /// Replies sent per VIP, summed over CPUs and adapters.
    public func repliesPerVIP() -> [IPv4Address: UInt64] {
        var result: [IPv4Address: UInt64] = [:]
        var key = [UInt8](repeating: 0, count: 4)
        var next = [UInt8](repeating: 0, count: 4)
        var values = [UInt64](repeating: 0, count: possibleCPUs)
        var first = true
        while true {
            let status = first ? bpf_map_get_next_key(vipRepliesFD, nil, &next) : bpf_map_get_next_key(vipRepliesFD, key, &next)
            guard status == 0 else { break }
            first = false
            key = next
            guard bpf_map_lookup_elem(vipRepliesFD, key, &values) == 0 else { continue }
            result[XDPMapLayout.address(from: key)] = values.reduce(0, &+)
        }
        return result
    }

    // MARK: Test runs

    /// What the program did with one frame (`BPF_PROG_TEST_RUN`).
    public struct TestRun: Sendable, Hashable {
        /// The verdict: `XDP_DROP` 1, `XDP_PASS` 2, `XDP_TX` 3.
        public var verdict: UInt32
        /// The frame as the program left it (the reply, for `XDP_TX`).
        public var frame: [UInt8]
    }

    /// Runs the answering program once on `frame` (needs CAP_BPF or root).
    public func testRun(_ frame: [UInt8]) throws(XDPError) -> TestRun {
        var output = [UInt8](repeating: 0, count: max(frame.count, 64) + 256)
        var size = UInt32(output.count)
        var verdict: UInt32 = 0
        let status = proxyarpd_bpf_test_run(programFD, frame, UInt32(frame.count), &output, &size, &verdict)
        guard status == 0 else { throw .libbpf("bpf_prog_test_run_opts", status) }
        return TestRun(verdict: verdict, frame: Array(output.prefix(Int(size))))
    }
}
