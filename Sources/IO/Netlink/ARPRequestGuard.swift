import CLinuxNet
import Glibc
import ProxyARPCore

/// The `tc` ingress rule of ``ARPRequestDropProgram`` on one adapter, over rtnetlink (no
/// `tc` command): a `clsact` qdisc (created if missing, never removed: other users may
/// hang filters on it) and a `bpf` classifier in direct-action mode at priority
/// ``priority``, handle 1, protocol ARP.
///
/// Updates replace the classifier in place (`NLM_F_REPLACE` on the same priority and
/// handle: the kernel swaps the program atomically, so there is no moment without a
/// rule, make-before-break); ``remove(interface:socket:)`` deletes it (a missing rule is
/// fine: idempotent, and a restart after `kill -9` replaces the stale one).
///
/// Needs CAP_NET_ADMIN (the qdisc and filter) and CAP_BPF or CAP_SYS_ADMIN (loading the
/// program): a daemon that dropped them keeps running without the rule.
public enum ARPRequestGuard {
    /// The classifier's priority (tc `pref`): ours, so `remove` deletes only this one.
    public static let priority: UInt16 = 0xA4D0
    /// The classifier's name as `tc filter show` prints it.
    public static let name = "proxyarpd_arp"

    static let clsactParent: UInt32 = 0xFFFF_FFF1  // TC_H_CLSACT
    static let clsactHandle: UInt32 = 0xFFFF_0000  // TC_H_MAKE(TC_H_CLSACT, 0)
    static let ingressParent: UInt32 = 0xFFFF_FFF2  // TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)
    static let kindAttribute = 1  // TCA_KIND
    static let optionsAttribute = 2  // TCA_OPTIONS
    static let bpfFileDescriptor = 6  // TCA_BPF_FD
    static let bpfName = 7  // TCA_BPF_NAME
    static let bpfFlags = 8  // TCA_BPF_FLAGS
    static let directAction: UInt32 = 1  // TCA_BPF_FLAG_ACT_DIRECT

    /// Installs or replaces the rule on the interface with index `interface`.
    /// - Throws: ``NetlinkError`` naming the step (`bpf(BPF_PROG_LOAD)` with the
    ///   verifier's first lines, `RTM_NEWQDISC clsact`, `RTM_NEWTFILTER`).
    public static func install(_ program: ARPRequestDropProgram, interface: Int32, socket: inout NetlinkSocket) throws(NetlinkError) {
        var qdisc = NetlinkRequest(type: UInt16(RTM_NEWQDISC), flags: CLN_NLM_F_CREATE | CLN_NLM_F_EXCL, label: "RTM_NEWQDISC clsact")
        qdisc.append(header: header(interface: interface, handle: clsactHandle, parent: clsactParent, info: 0))
        qdisc.appendAttribute(kindAttribute, string: "clsact")
        try socket.execute(qdisc, tolerating: [EEXIST])

        let descriptor = try load(program)
        defer { close(descriptor) }  // the classifier holds its own reference
        var filter = NetlinkRequest(
            type: UInt16(RTM_NEWTFILTER), flags: CLN_NLM_F_CREATE | CLN_NLM_F_REPLACE, label: "RTM_NEWTFILTER bpf")
        filter.append(header: header(interface: interface, handle: 1, parent: ingressParent, info: info))
        filter.appendAttribute(kindAttribute, string: "bpf")
        var options: [UInt8] = []
        appendNested(&options, bpfFileDescriptor, withUnsafeBytes(of: UInt32(descriptor)) { Array($0) })
        appendNested(&options, bpfName, Array(name.utf8) + [0])
        appendNested(&options, bpfFlags, withUnsafeBytes(of: directAction) { Array($0) })
        filter.appendAttribute(optionsAttribute, options)
        try socket.execute(filter)
    }

    /// Deletes the rule from the interface with index `interface`; nothing there is fine.
    public static func remove(interface: Int32, socket: inout NetlinkSocket) throws(NetlinkError) {
        var filter = NetlinkRequest(type: UInt16(RTM_DELTFILTER), flags: 0, label: "RTM_DELTFILTER bpf")
        filter.append(header: header(interface: interface, handle: 0, parent: ingressParent, info: info))
        try socket.execute(filter, tolerating: [ENOENT, EINVAL, ENODEV])
    }

    /// Removes the rule from the interface named `name` in the socket's namespace.
    public static func remove(interfaceNamed name: String, socket: inout NetlinkSocket) throws(NetlinkError) {
        try remove(interface: try socket.link(named: name).index, socket: &socket)
    }

    /// Installs or replaces the rule on the interface named `name` in the socket's namespace.
    public static func install(_ program: ARPRequestDropProgram, interfaceNamed name: String, socket: inout NetlinkSocket) throws(NetlinkError) {
        try install(program, interface: try socket.link(named: name).index, socket: &socket)
    }

    /// `tcm_info`: the priority in the high 16 bits, the protocol (ETH_P_ARP, network order) low.
    static var info: UInt32 { UInt32(priority) << 16 | UInt32(UInt16(0x0806).bigEndian) }

    static func header(interface: Int32, handle: UInt32, parent: UInt32, info: UInt32) -> tcmsg {
        var message = tcmsg()
        message.tcm_family = UInt8(AF_UNSPEC)
        message.tcm_ifindex = interface
        message.tcm_handle = handle
        message.tcm_parent = parent
        message.tcm_info = info
        return message
    }

    static func appendNested(_ bytes: inout [UInt8], _ type: Int, _ value: [UInt8]) {
        withUnsafeBytes(of: UInt16(4 + value.count)) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt16(type)) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: value)
        while bytes.count % 4 != 0 { bytes.append(0) }
    }

    /// Loads `program` (BPF_PROG_TYPE_SCHED_CLS); its descriptor.
    static func load(_ program: ARPRequestDropProgram) throws(NetlinkError) -> Int32 {
        let bytes = program.bytes
        var log = [CChar](repeating: 0, count: 4096)
        let descriptor = bytes.withUnsafeBytes { code in
            log.withUnsafeMutableBufferPointer { buffer in
                cln_bpf_load_sched_cls(code.baseAddress, UInt32(program.instructions.count), name, buffer.baseAddress, UInt32(buffer.count))
            }
        }
        guard descriptor >= 0 else {
            let text = String(decoding: log.prefix { $0 != 0 }.suffix(300).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw NetlinkError(operation: "bpf(BPF_PROG_LOAD) \(text)", code: -descriptor)
        }
        return descriptor
    }
}

extension ARPRequestGuard {
    /// A request socket in the network namespace at `namespacePath` (the caller's when nil).
    public static func socket(namespacePath: String? = nil) throws(NetlinkError) -> NetlinkSocket {
        NetlinkSocket(adopting: try NetworkNamespace.run(in: namespacePath) { () throws(NetlinkError) -> Int32 in
            try NetlinkSocket.openDescriptor(groups: 0, receiveBufferSize: nil)
        })
    }
}
