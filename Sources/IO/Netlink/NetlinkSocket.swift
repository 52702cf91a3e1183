import CLinuxNet
import Glibc
import ProxyARPCore

/// A failed system call on a netlink socket, or an error the kernel answered a request with.
public struct NetlinkError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was being done: `"RTM_NEWRULE from 198.18.0.5"`, `"socket"`, `"setns /var/run/netns/x"`.
    public var operation: String
    /// The (positive) errno value.
    public var code: Int32

    /// Creates an error for `operation` with the positive errno `code`.
    public init(operation: String, code: Int32) {
        self.operation = operation
        self.code = code
    }

    /// `operation: No such device (errno 19)`.
    public var description: String {
        "\(operation): \(String(cString: strerror(code))) (errno \(code))"
    }
}

/// One netlink message: the `nlmsghdr` fields and the bytes after the header
/// (the family header, `ifinfomsg`/`ifaddrmsg`/`rtmsg`/`fib_rule_hdr`, then attributes).
public struct NetlinkMessage: Sendable {
    /// `nlmsg_type`, e.g. `RTM_NEWLINK`.
    public var type: UInt16
    /// `nlmsg_flags`.
    public var flags: UInt16
    /// `nlmsg_seq`.
    public var sequence: UInt32
    /// Everything after the 16-byte `nlmsghdr`, as long as `nlmsg_len` says.
    public var payload: [UInt8]

    /// The family header at the start of the payload, or nil when the payload is shorter.
    public func familyHeader<T: BitwiseCopyable>(_: T.Type) -> T? {
        guard payload.count >= MemoryLayout<T>.size else { return nil }
        return payload.withUnsafeBytes { $0.loadUnaligned(as: T.self) }
    }

    /// The attributes that follow a family header of `headerSize` bytes.
    public func attributes(afterHeaderOf headerSize: Int) -> NetlinkAttributes {
        NetlinkAttributes(payload, from: Int(cln_nlmsg_align(UInt32(headerSize))))
    }

    /// Splits one datagram into its messages; stops at the first malformed header.
    public static func parse(_ datagram: UnsafeRawBufferPointer) -> [NetlinkMessage] {
        var messages: [NetlinkMessage] = []
        var offset = 0
        let headerSize = MemoryLayout<nlmsghdr>.size
        while datagram.count - offset >= headerSize {
            let header = datagram.loadUnaligned(fromByteOffset: offset, as: nlmsghdr.self)
            let length = Int(header.nlmsg_len)
            guard length >= headerSize, length <= datagram.count - offset else { break }
            let payload = Array(datagram[(offset + headerSize)..<(offset + length)])
            messages.append(NetlinkMessage(
                type: header.nlmsg_type, flags: header.nlmsg_flags, sequence: header.nlmsg_seq, payload: payload))
            offset += Int(cln_nlmsg_align(UInt32(length)))
        }
        return messages
    }
}

/// The `rtattr` list of a message, parsed once (type → value; the last one wins).
public struct NetlinkAttributes: Sendable {
    private var values: [UInt16: ArraySlice<UInt8>] = [:]

    init(_ bytes: [UInt8], from start: Int) {
        var offset = start
        bytes.withUnsafeBytes { raw in
            while raw.count - offset >= 4 {
                let length = Int(raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
                let type = raw.loadUnaligned(fromByteOffset: offset + 2, as: UInt16.self) & CLN_NLA_TYPE_MASK
                guard length >= 4, length <= raw.count - offset else { break }
                values[type] = bytes[(offset + 4)..<(offset + length)]
                offset += Int(cln_rta_align(UInt32(length)))
            }
        }
    }

    /// The raw value of attribute `type`.
    public subscript(type: Int) -> ArraySlice<UInt8>? { values[UInt16(truncatingIfNeeded: type)] }

    /// A host-order `u32` attribute.
    public func uint32(_ type: Int) -> UInt32? {
        guard let value = self[type], value.count >= 4 else { return nil }
        return value.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
    }

    /// A `u8` attribute.
    public func uint8(_ type: Int) -> UInt8? { self[type]?.first }

    /// An IPv4 address in network byte order (4 bytes).
    public func ipv4(_ type: Int) -> IPv4Address? {
        guard let value = self[type], value.count == 4 else { return nil }
        let start = value.startIndex
        return IPv4Address(value[start], value[start + 1], value[start + 2], value[start + 3])
    }

    /// A NUL-terminated string attribute.
    public func string(_ type: Int) -> String? {
        guard let value = self[type] else { return nil }
        return String(decoding: value.prefix(while: { $0 != 0 }), as: UTF8.self)
    }

    /// A 6-byte hardware address.
    public func mac(_ type: Int) -> MACAddress? {
        guard let value = self[type], value.count == 6 else { return nil }
        let s = value.startIndex
        return MACAddress(value[s], value[s + 1], value[s + 2], value[s + 3], value[s + 4], value[s + 5])
    }
}

/// A request being built: `nlmsghdr`, a family header, then attributes, each 4-byte aligned.
public struct NetlinkRequest: Sendable {
    /// The message bytes; the length, sequence and port id are filled in when sent.
    public private(set) var bytes: [UInt8]
    /// `nlmsg_type`.
    public let type: UInt16
    /// What the request is for, in error messages.
    public var label: String

    /// Starts a message of `type` with `flags` (`NLM_F_REQUEST` is always added).
    public init(type: UInt16, flags: UInt16, label: String) {
        self.type = type
        self.label = label
        bytes = [UInt8](repeating: 0, count: MemoryLayout<nlmsghdr>.size)
        bytes.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: type, toByteOffset: 4, as: UInt16.self)
            raw.storeBytes(of: flags | CLN_NLM_F_REQUEST, toByteOffset: 6, as: UInt16.self)
        }
    }

    /// The `nlmsg_flags` of the request.
    public var flags: UInt16 { bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 6, as: UInt16.self) } }

    private mutating func pad() {
        while bytes.count % 4 != 0 { bytes.append(0) }
    }

    /// Appends a family header (`ifinfomsg`, `ifaddrmsg`, `rtmsg`, `fib_rule_hdr`).
    public mutating func append<T: BitwiseCopyable>(header: T) {
        withUnsafeBytes(of: header) { bytes.append(contentsOf: $0) }
        pad()
    }

    /// Appends an `rtattr` of `type` holding `value`.
    public mutating func appendAttribute(_ type: Int, _ value: some Collection<UInt8>) {
        let length = UInt16(4 + value.count)
        withUnsafeBytes(of: length) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt16(truncatingIfNeeded: type)) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: value)
        pad()
    }

    /// Appends a host-order `u32` attribute.
    public mutating func appendAttribute(_ type: Int, uint32 value: UInt32) {
        appendAttribute(type, withUnsafeBytes(of: value) { Array($0) })
    }

    /// Appends a `u8` attribute.
    public mutating func appendAttribute(_ type: Int, uint8 value: UInt8) {
        appendAttribute(type, [value])
    }

    /// Appends an IPv4 address in network byte order.
    public mutating func appendAttribute(_ type: Int, ipv4 address: IPv4Address) {
        appendAttribute(type, [address.octet(0), address.octet(1), address.octet(2), address.octet(3)])
    }

    /// Appends a NUL-terminated string attribute.
    public mutating func appendAttribute(_ type: Int, string: String) {
        appendAttribute(type, Array(string.utf8) + [0])
    }

    /// The finished bytes with `nlmsg_len` and `nlmsg_seq` set.
    func finished(sequence: UInt32) -> [UInt8] {
        var result = bytes
        result.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt32(raw.count), toByteOffset: 0, as: UInt32.self)
            raw.storeBytes(of: sequence, toByteOffset: 8, as: UInt32.self)
        }
        return result
    }
}

/// An `AF_NETLINK`/`NETLINK_ROUTE` socket that sends requests and collects their replies.
///
/// Requests are synchronous: `dump` reads the multipart reply up to `NLMSG_DONE`,
/// `execute` reads up to the `NLMSG_ERROR` acknowledgement. Non-copyable: it owns the fd.
public struct NetlinkSocket: ~Copyable {
    /// The socket descriptor.
    public let descriptor: Int32
    private var sequence: UInt32 = 0
    /// Requests sent on this socket so far (each `execute` or `dump` is one round trip).
    public private(set) var requestsSent = 0
    private var buffer: [UInt8] = [UInt8](repeating: 0, count: 1 << 16)

    /// Opens a socket in the caller's network namespace, bound to the multicast `groups`
    /// (an `RTMGRP_*` bit mask; 0 for a request-only socket).
    public init(groups: UInt32 = 0, receiveBufferSize: Int32? = nil) throws(NetlinkError) {
        self.init(adopting: try Self.openDescriptor(groups: groups, receiveBufferSize: receiveBufferSize))
    }

    /// Takes ownership of a descriptor made by ``openDescriptor(groups:receiveBufferSize:)``,
    /// possibly on another thread in another network namespace.
    public init(adopting descriptor: Int32) {
        self.descriptor = descriptor
        // Start somewhere other than 0 so replies to an earlier process cannot match.
        self.sequence = UInt32(truncatingIfNeeded: getpid()) &* 7919
    }

    deinit {
        close(descriptor)
    }

    /// Opens and binds a `NETLINK_ROUTE` socket and returns its descriptor. The socket
    /// belongs to the network namespace of the calling thread for the rest of its life.
    public static func openDescriptor(groups: UInt32, receiveBufferSize: Int32?) throws(NetlinkError) -> Int32 {
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), NETLINK_ROUTE)
        guard fd >= 0 else { throw NetlinkError(operation: "socket(AF_NETLINK)", code: errno) }
        if var size = receiveBufferSize {
            // SO_RCVBUFFORCE passes the rmem_max limit when privileged; fall back to SO_RCVBUF.
            if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
                _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            }
        }
        if groups == 0 {
            // A request socket: a reply that never comes becomes ETIMEDOUT instead of a hang.
            var timeout = timeval(tv_sec: Self.replyTimeoutSeconds, tv_usec: 0)
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        // Lets dumps filter by interface/table in the kernel (Linux 4.20+); harmless when refused.
        var one: Int32 = 1
        _ = setsockopt(fd, CLN_SOL_NETLINK, CLN_NETLINK_GET_STRICT_CHK, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        address.nl_groups = groups
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_nl>.size))
            }
        }
        guard status == 0 else {
            let code = errno
            close(fd)
            throw NetlinkError(operation: "bind(AF_NETLINK, groups 0x\(String(groups, radix: 16)))", code: code)
        }
        return fd
    }

    /// How long a request socket waits for the kernel's reply before `ETIMEDOUT`.
    public static let replyTimeoutSeconds = 5

    /// Sends `request` with a fresh sequence number and returns that number.
    public mutating func send(_ request: NetlinkRequest) throws(NetlinkError) -> UInt32 {
        sequence &+= 1
        requestsSent &+= 1
        let bytes = request.finished(sequence: sequence)
        var kernel = sockaddr_nl()
        kernel.nl_family = sa_family_t(AF_NETLINK)
        while true {
            let sent = bytes.withUnsafeBytes { raw in
                withUnsafePointer(to: &kernel) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(descriptor, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_nl>.size))
                    }
                }
            }
            if sent >= 0 { return sequence }
            if errno != EINTR { throw NetlinkError(operation: "send \(request.label)", code: errno) }
        }
    }

    /// Receives one datagram and splits it into messages. `flags` as for `recv(2)`.
    /// Returns nil on `EAGAIN`: nothing queued with `MSG_DONTWAIT`, or the receive timeout
    /// of a request socket expired.
    public mutating func receive(flags: Int32 = 0, label: String = "recv") throws(NetlinkError) -> [NetlinkMessage]? {
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, flags) }
            if count >= 0 {
                return buffer.withUnsafeBytes { NetlinkMessage.parse(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return nil }
            throw NetlinkError(operation: label, code: code)
        }
    }

    /// Sends a dump request (`NLM_F_DUMP` is added) and returns every reply message
    /// up to `NLMSG_DONE`. Retries up to 3 times when the kernel flags the dump as
    /// interrupted (`NLM_F_DUMP_INTR`: the table changed meanwhile).
    public mutating func dump(_ request: NetlinkRequest) throws(NetlinkError) -> [NetlinkMessage] {
        var dumpRequest = NetlinkRequest(type: request.type, flags: request.flags | CLN_NLM_F_DUMP, label: request.label)
        dumpRequest.replaceBody(with: request)
        var attempt = 0
        while true {
            attempt += 1
            let (messages, interrupted) = try dumpOnce(dumpRequest)
            if !interrupted || attempt >= 3 { return messages }
        }
    }

    private mutating func dumpOnce(_ request: NetlinkRequest) throws(NetlinkError) -> ([NetlinkMessage], Bool) {
        let sequence = try send(request)
        var replies: [NetlinkMessage] = []
        var interrupted = false
        while true {
            guard let messages = try receive(label: "recv \(request.label)") else {
                throw NetlinkError(operation: "waiting for the reply to \(request.label)", code: ETIMEDOUT)
            }
            for message in messages where message.sequence == sequence {
                if message.flags & CLN_NLM_F_DUMP_INTR != 0 { interrupted = true }
                switch message.type {
                case CLN_NLMSG_DONE:
                    return (replies, interrupted)
                case CLN_NLMSG_ERROR:
                    let code = Self.errorCode(of: message)
                    if code != 0 { throw NetlinkError(operation: request.label, code: code) }
                    return (replies, interrupted)
                case CLN_NLMSG_NOOP:
                    continue
                default:
                    replies.append(message)
                }
            }
        }
    }

    /// Sends a request with `NLM_F_ACK` and waits for the acknowledgement. Returns 0,
    /// or the errno when it is one of `tolerated` (e.g. `EEXIST` for an idempotent add);
    /// throws any other kernel error. Replies before the ACK (e.g. a `RTM_GETLINK`
    /// answer) are returned in `replies`.
    @discardableResult
    public mutating func execute(
        _ request: NetlinkRequest, tolerating tolerated: [Int32] = [], replies: inout [NetlinkMessage]
    ) throws(NetlinkError) -> Int32 {
        var acked = NetlinkRequest(type: request.type, flags: request.flags | CLN_NLM_F_ACK, label: request.label)
        acked.replaceBody(with: request)
        let sequence = try send(acked)
        while true {
            guard let messages = try receive(label: "recv \(request.label)") else {
                throw NetlinkError(operation: "waiting for the reply to \(request.label)", code: ETIMEDOUT)
            }
            for message in messages where message.sequence == sequence {
                guard message.type == CLN_NLMSG_ERROR else {
                    replies.append(message)
                    continue
                }
                let code = Self.errorCode(of: message)
                if code == 0 || tolerated.contains(code) { return code }
                throw NetlinkError(operation: request.label, code: code)
            }
        }
    }

    /// ``execute(_:tolerating:replies:)`` without replies.
    @discardableResult
    public mutating func execute(_ request: NetlinkRequest, tolerating tolerated: [Int32] = []) throws(NetlinkError) -> Int32 {
        var ignored: [NetlinkMessage] = []
        return try execute(request, tolerating: tolerated, replies: &ignored)
    }

    /// The positive errno of an `NLMSG_ERROR` message (0 for an ACK).
    static func errorCode(of message: NetlinkMessage) -> Int32 {
        guard let error = message.familyHeader(nlmsgerr.self) else { return EPROTO }
        return -error.error
    }
}

extension NetlinkRequest {
    /// Copies everything after the `nlmsghdr` of `other` (family header and attributes).
    mutating func replaceBody(with other: NetlinkRequest) {
        bytes.removeSubrange(MemoryLayout<nlmsghdr>.size...)
        bytes.append(contentsOf: other.bytes[MemoryLayout<nlmsghdr>.size...])
    }

    /// A request whose body is a copy of a dumped message (family header and attributes):
    /// how `ip rule flush` / `ip route flush` delete exactly what they listed.
    init(type: UInt16, flags: UInt16, label: String, echoing message: NetlinkMessage) {
        self.init(type: type, flags: flags, label: label)
        bytes.append(contentsOf: message.payload)
        while bytes.count % 4 != 0 { bytes.append(0) }
    }
}
