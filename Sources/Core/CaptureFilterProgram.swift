/// A classic BPF (cBPF) capture filter for one adapter, built from its slice of the
/// ``AnswerTable``: the kernel drops, before they are copied to the adapter's capture
/// ring, the plain ARP requests that adapter would only ignore.
///
/// What passes (everything the answer rules of ARCHITECTURE.md §6 reply to or observe,
/// and everything they count as malformed):
/// - untagged ARP that is not a plain Ethernet/IPv4 request: replies (conflicts, our own
///   announcements), frames shorter than 42 bytes or with other hardware/protocol
///   types or lengths (counted as malformed), any other opcode;
/// - ARP behind one in-band 802.1Q/802.1ad tag, as the default filter `arp or (vlan and
///   arp)` did;
/// - plain requests that are probes (sender IP 0), gratuitous (sender IP = target IP),
///   whose target is in ``served`` (answered) or whose sender is in ``watched`` (a
///   conflict: another host uses one of our VIPs).
///
/// What is dropped: every other plain request (for the adapters' own addresses, for
/// another adapter's VIPs, for addresses nobody here serves), and every non-ARP frame
/// (IPv6 frames go through a Neighbor Discovery clause when the adapter has IPv6 VIPs).
///
/// The target (then sender) is looked up by a balanced binary search over the sorted,
/// merged ranges (``RangeSearch``): about 2 instructions per range, about log2(ranges) + 2
/// compares per frame. `maximumInstructions` bounds the program, beyond which
/// ``init(served:watched:snapshotLength:maximumInstructions:)`` returns nil and the caller
/// keeps the plain `arp` filter.
public struct CaptureFilterProgram: Sendable, Equatable {
    /// One `struct sock_filter`.
    public struct Instruction: Sendable, Equatable {
        /// Opcode (class | size | mode, or class | op | source).
        public var code: UInt16
        /// Jump offset when true.
        public var jt: UInt8
        /// Jump offset when false.
        public var jf: UInt8
        /// The constant.
        public var k: UInt32

        /// Creates an instruction.
        public init(code: UInt16, jt: UInt8 = 0, jf: UInt8 = 0, k: UInt32 = 0) {
            self.code = code
            self.jt = jt
            self.jf = jf
            self.k = k
        }
    }

    /// The program, ready for `pcap_setfilter` or `SO_ATTACH_FILTER`.
    public let instructions: [Instruction]
    /// The target ranges it lets through (merged, sorted).
    public let served: [ClosedRange<UInt32>]
    /// The sender ranges it lets through (merged, sorted).
    public let watched: [ClosedRange<UInt32>]
    /// True when IPv6 frames go through the Neighbor Discovery clause (else they are dropped).
    public let capturesNeighborDiscovery: Bool
    /// The IPv6 solicitation targets it lets through (the adapter's IPv6 proxy list).
    public let servedIPv6: [IPv6Group]
    /// The IPv6 VIPs whose solicited advertisements, and solicitations from which, it lets
    /// through (watched and served).
    public let oursIPv6: [IPv6Group]

    /// The default bound: the kernel's `BPF_MAXINSNS` (4,096 instructions), about 2,000
    /// ranges (served and watched together). Beyond it the plain `arp` filter stays.
    public static let defaultMaximumInstructions = 4_096

    /// The program for an adapter answering for `served` whose control plane watches
    /// `watched` (each sorted and merged here, so any order and overlap is fine), accepting
    /// `snapshotLength` bytes; nil when it would exceed `maximumInstructions` (the caller
    /// falls back to the plain `arp` filter).
    ///
    /// With `neighborDiscovery` (the adapter's IPv6 slice of the answer view), IPv6 frames
    /// go through a Neighbor Discovery clause (``NeighborDiscoveryClause``): solicitations
    /// pass when their target is on its proxy list, and what the control plane observes
    /// passes too; without it, every non-ARP frame is dropped.
    public init?(
        served: [ClosedRange<UInt32>], watched: [ClosedRange<UInt32>], snapshotLength: UInt32,
        neighborDiscovery: IPv6AnswerSets? = nil,
        maximumInstructions: Int = Self.defaultMaximumInstructions
    ) {
        let served = Self.merged(served)
        let watched = Self.merged(watched)
        let accept = Instruction(code: Op.ret | Op.k, k: snapshotLength)
        let reject = Instruction(code: Op.ret | Op.k, k: 0)
        let servedSearch = RangeSearch(ranges: served)
        let watchedSearch = RangeSearch(ranges: watched)
        var program: [Instruction] = [
            // 0: the EtherType.
            Instruction(code: Op.ldh, k: 12),
            Instruction(code: Op.jeq, jt: 8, jf: 0, k: 0x0806),  // 1: ARP -> 10
            Instruction(code: Op.jeq, jt: 3, jf: 0, k: 0x8100),  // 2: 802.1Q -> 6
            Instruction(code: Op.jeq, jt: 2, jf: 0, k: 0x88a8),  // 3: 802.1ad -> 6
            Instruction(code: Op.jeq, jt: 1, jf: 0, k: 0x9100),  // 4: old QinQ -> 6
            reject,  // 5: not ARP
            Instruction(code: Op.ldh, k: 16),  // 6: the EtherType behind one tag
            Instruction(code: Op.jeq, jt: 0, jf: 1, k: 0x0806),  // 7
            accept,  // 8: tagged ARP
            reject,  // 9
            Instruction(code: Op.ldLength),  // 10: frame length
            Instruction(code: Op.jge, jt: 1, jf: 0, k: 42),  // 11
            accept,  // 12: too short to be a request: the codec counts it as malformed
            Instruction(code: Op.ldw, k: 14),  // 13: hardware type, protocol type
            Instruction(code: Op.jeq, jt: 1, jf: 0, k: 0x0001_0800),  // 14
            accept,  // 15: not Ethernet/IPv4 ARP
            Instruction(code: Op.ldh, k: 18),  // 16: hardware and protocol lengths
            Instruction(code: Op.jeq, jt: 1, jf: 0, k: 0x0604),  // 17
            accept,  // 18: bad lengths
            Instruction(code: Op.ldh, k: 20),  // 19: opcode
            Instruction(code: Op.jeq, jt: 1, jf: 0, k: 1),  // 20
            accept,  // 21: a reply or another opcode
            Instruction(code: Op.ldw, k: 28),  // 22: sender IP
            Instruction(code: Op.jeq, jt: 0, jf: 1, k: 0),  // 23
            accept,  // 24: a probe
            Instruction(code: Op.tax),  // 25: X = sender IP
            Instruction(code: Op.ldw, k: 38),  // 26: target IP
            Instruction(code: Op.jeqX, jt: 0, jf: 1),  // 27
            accept,  // 28: gratuitous
        ]
        let servedIPv6 = neighborDiscovery.map { Self.groups(of: $0.proxyList) } ?? []
        let oursIPv6 = neighborDiscovery.map { Self.groups(of: $0.watchedVIPs.union($0.proxyList)) } ?? []
        let clause = neighborDiscovery.map { _ in
            NeighborDiscoveryClause(served: servedIPv6, ours: oursIPv6, accept: accept).instructions
        } ?? []
        let arpSize = program.count + servedSearch.size + 1 + watchedSearch.size + 1
        guard arpSize + clause.count <= maximumInstructions else { return nil }
        self.served = served
        self.watched = watched
        self.servedIPv6 = servedIPv6
        self.oursIPv6 = oursIPv6
        capturesNeighborDiscovery = neighborDiscovery != nil
        if capturesNeighborDiscovery {
            // The two "not ARP" rejects (5: untagged, 9: behind a tag) go to the clause instead.
            program[5] = Instruction(code: Op.ja, k: UInt32(arpSize + NeighborDiscoveryClause.untaggedEntry - 5 - 1))
            program[9] = Instruction(code: Op.ja, k: UInt32(arpSize + NeighborDiscoveryClause.taggedEntry - 9 - 1))
        }
        program += servedSearch.instructions(accept: accept)  // A = target IP; a miss falls through
        program.append(Instruction(code: Op.txa))  // A = sender IP
        program += watchedSearch.instructions(accept: accept)
        program.append(reject)
        program += clause
        instructions = program
    }

    /// The most instructions one frame can execute (the program only jumps forward, so
    /// this is the longest path through it), for tests and sizing.
    public var longestPath: Int {
        var longest = [Int](repeating: 0, count: instructions.count + 1)
        for index in instructions.indices.reversed() {
            let instruction = instructions[index]
            let successors: [Int]
            switch instruction.code & 0x07 {
            case 0x06: successors = []  // BPF_RET
            case 0x05 where instruction.code == Op.ja: successors = [index + 1 + Int(instruction.k)]
            case 0x05: successors = [index + 1 + Int(instruction.jt), index + 1 + Int(instruction.jf)]
            default: successors = [index + 1]
            }
            longest[index] = 1 + (successors.map { $0 < instructions.count ? longest[$0] : 0 }.max() ?? 0)
        }
        return longest.first ?? 0
    }

    /// `ranges` sorted, overlapping and adjacent ones merged.
    static func merged(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var result: [ClosedRange<UInt32>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let open = result.last, open.upperBound == .max || range.lowerBound <= open.upperBound + 1 {
                result[result.count - 1] = open.lowerBound...max(open.upperBound, range.upperBound)
            } else {
                result.append(range)
            }
        }
        return result
    }

    /// The merged ranges (host byte order values) of `addresses`, sorted.
    public static func ranges(of addresses: AddressSet) -> [ClosedRange<UInt32>] {
        var values = addresses.elements.map(\.rawValue)
        values.sort()
        var ranges: [ClosedRange<UInt32>] = []
        for value in values {
            if let open = ranges.last, open.upperBound != .max, value == open.upperBound + 1 {
                ranges[ranges.count - 1] = open.lowerBound...value
            } else {
                ranges.append(value...value)
            }
        }
        return ranges
    }

    /// cBPF opcodes (linux/filter.h, linux/bpf_common.h).
    enum Op {
        static let ldw: UInt16 = 0x20  // BPF_LD | BPF_W | BPF_ABS
        static let ldh: UInt16 = 0x28  // BPF_LD | BPF_H | BPF_ABS
        static let ldLength: UInt16 = 0x80  // BPF_LD | BPF_W | BPF_LEN
        static let jeq: UInt16 = 0x15  // BPF_JMP | BPF_JEQ | BPF_K
        static let jeqX: UInt16 = 0x1d  // BPF_JMP | BPF_JEQ | BPF_X
        static let jgt: UInt16 = 0x25  // BPF_JMP | BPF_JGT | BPF_K
        static let jge: UInt16 = 0x35  // BPF_JMP | BPF_JGE | BPF_K
        static let ja: UInt16 = 0x05  // BPF_JMP | BPF_JA
        static let ret: UInt16 = 0x06  // BPF_RET
        static let k: UInt16 = 0x00  // BPF_K
        static let tax: UInt16 = 0x07  // BPF_MISC | BPF_TAX
        static let txa: UInt16 = 0x87  // BPF_MISC | BPF_TXA
        static let ldwIndirect: UInt16 = 0x40  // BPF_LD | BPF_W | BPF_IND: A = word at X + k
        static let ldbIndirect: UInt16 = 0x50  // BPF_LD | BPF_B | BPF_IND: A = byte at X + k
        static let ldxImmediate: UInt16 = 0x01  // BPF_LDX | BPF_W | BPF_IMM
        static let ldxMemory: UInt16 = 0x61  // BPF_LDX | BPF_W | BPF_MEM: X = M[k]
        static let stx: UInt16 = 0x03  // BPF_STX: M[k] = X
        static let addK: UInt16 = 0x04  // BPF_ALU | BPF_ADD | BPF_K
        static let subX: UInt16 = 0x1c  // BPF_ALU | BPF_SUB | BPF_X
        static let jset: UInt16 = 0x45  // BPF_JMP | BPF_JSET | BPF_K
    }
}
