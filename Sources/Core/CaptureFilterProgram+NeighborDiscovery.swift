extension CaptureFilterProgram {
    /// A set of IPv6 addresses in the form the filter searches: grouped by their first 96
    /// bits, the last 32 bits of each group as sorted, merged ranges.
    public struct IPv6Group: Sendable, Hashable {
        /// The first 64 bits (words 0 and 1 on the wire).
        public let high: UInt64
        /// The third 32-bit word on the wire.
        public let third: UInt32
        /// The last 32-bit word: sorted, merged ranges.
        public let last: [ClosedRange<UInt32>]

        /// The addresses of the group, for models and tests: whether `address` is in it.
        public func contains(_ address: IPv6Address) -> Bool {
            address.high == high && UInt32(truncatingIfNeeded: address.low >> 32) == third
                && last.contains { $0.contains(UInt32(truncatingIfNeeded: address.low)) }
        }
    }

    /// `addresses` as groups sorted by their first 96 bits, consecutive last words merged.
    public static func groups(of addresses: some Sequence<IPv6Address>) -> [IPv6Group] {
        var groups: [IPv6Group] = []
        var high: UInt64 = 0
        var third: UInt32 = 0
        var last: [ClosedRange<UInt32>] = []
        for address in addresses.sorted() {
            let addressThird = UInt32(truncatingIfNeeded: address.low >> 32)
            let word = UInt32(truncatingIfNeeded: address.low)
            if !last.isEmpty, address.high == high, addressThird == third {
                let open = last[last.count - 1]
                if open.upperBound != .max, word == open.upperBound + 1 {
                    last[last.count - 1] = open.lowerBound...word
                } else if word > open.upperBound {
                    last.append(word...word)
                }
                continue
            }
            if !last.isEmpty { groups.append(IPv6Group(high: high, third: third, last: last)) }
            high = address.high
            third = addressThird
            last = [word...word]
        }
        if !last.isEmpty { groups.append(IPv6Group(high: high, third: third, last: last)) }
        return groups
    }

    /// The Neighbor Discovery clause of a narrowed program, entered with A = the EtherType
    /// (untagged at ``untaggedEntry``, behind one in-band tag at ``taggedEntry``, both
    /// relative to the clause's first instruction). Lets through, for an IPv6 frame:
    /// - IPv6 with a hop-by-hop, routing or destination options header first (next header 0,
    ///   43, 60): the codec skips those to find a solicitation, the filter does not follow them;
    /// - ICMPv6 types 135 and 136 too short to hold a target (the codec counts them as malformed);
    /// - unsolicited advertisements (S = 0), whatever the target: own announcements heard by a
    ///   sibling (confirmation) and claims by other hosts (conflicts);
    /// - solicited advertisements whose target is one of ours (served or watched): conflicts;
    /// - DAD probes (source `::`), whatever the target;
    /// - solicitations whose target is served (answered) or whose source is one of ours (a
    ///   host using our VIP: a conflict).
    /// Everything else (other ICMPv6, other next headers, solicitations for other addresses)
    /// is dropped. The addresses are found by ``IPv6Search``; X holds the link header's length
    /// (14, or 18 behind a tag) and is kept in M[0].
    struct NeighborDiscoveryClause {
        /// Where a frame whose EtherType (in A) follows an untagged Ethernet header enters.
        static let untaggedEntry = 0
        /// Where a frame whose EtherType (in A) follows one in-band VLAN tag enters.
        static let taggedEntry = 4

        let instructions: [Instruction]

        init(served: [IPv6Group], ours: [IPv6Group], accept: Instruction) {
            let reject = Instruction(code: Op.ret | Op.k, k: 0)
            var code = Assembly()
            // Untagged entry (A = EtherType at 12), then the tagged one (A = EtherType at 16).
            code.jump(Op.jeq, k: 0x86dd, true: .next, false: "reject0")
            code.append(Instruction(code: Op.ldxImmediate, k: 14))
            code.always("common")
            code.label("reject0")
            code.append(reject)
            precondition(code.count == Self.taggedEntry)
            code.jump(Op.jeq, k: 0x86dd, true: .next, false: "reject1")
            code.append(Instruction(code: Op.ldxImmediate, k: 18))
            code.always("common")
            code.label("reject1")
            code.append(reject)

            code.label("common")
            code.append(Instruction(code: Op.stx, k: 0))  // M[0] = link header length
            code.append(Instruction(code: Op.ldbIndirect, k: 6))  // next header
            code.jump(Op.jeq, k: 58, true: "icmp6", false: .next)
            code.jump(Op.jeq, k: 0, true: "accept0", false: .next)  // hop-by-hop
            code.jump(Op.jeq, k: 43, true: "accept0", false: .next)  // routing
            code.jump(Op.jeq, k: 60, true: "accept0", false: .next)  // destination options
            code.append(reject)
            code.label("accept0")
            code.append(accept)

            code.label("icmp6")
            code.append(Instruction(code: Op.ldbIndirect, k: 40))  // ICMPv6 type
            code.jump(Op.jeq, k: 135, true: "length", false: .next)
            code.jump(Op.jeq, k: 136, true: "length", false: .next)
            code.append(reject)
            code.label("length")
            code.append(Instruction(code: Op.ldLength))
            code.append(Instruction(code: Op.subX))  // bytes from the IPv6 header on
            code.jump(Op.jge, k: 64, true: "long", false: .next)  // IPv6 header + type..target
            code.append(accept)  // too short to hold a target: counted as malformed
            code.label("long")
            code.append(Instruction(code: Op.ldbIndirect, k: 40))
            code.jump(Op.jeq, k: 135, true: "solicitation", false: .next)

            // Advertisement: unsolicited passes; solicited only for one of ours.
            code.append(Instruction(code: Op.ldbIndirect, k: 44))
            code.jump(Op.jset, k: 0x40, true: "solicited", false: .next)
            code.append(accept)
            code.label("solicited")
            code.append(Instruction(code: Op.txa))
            code.append(Instruction(code: Op.addK, k: 48))
            code.append(Instruction(code: Op.tax))  // X = the target
            code.always("ours")

            // Solicitation: a DAD probe passes; else the target served or the source ours.
            code.label("solicitation")
            for word in 0..<4 {
                code.append(Instruction(code: Op.ldwIndirect, k: UInt32(8 + 4 * word)))
                code.jump(Op.jeq, k: 0, true: .next, false: "notProbe")
            }
            code.append(accept)
            code.label("notProbe")
            code.append(Instruction(code: Op.txa))
            code.append(Instruction(code: Op.addK, k: 48))
            code.append(Instruction(code: Op.tax))  // X = the target
            code.append(contentsOf: IPv6Search(groups: served).instructions(accept: accept))  // a miss falls through
            code.append(Instruction(code: Op.ldxMemory, k: 0))
            code.append(Instruction(code: Op.txa))
            code.append(Instruction(code: Op.addK, k: 8))
            code.append(Instruction(code: Op.tax))  // X = the source

            code.label("ours")
            code.append(contentsOf: IPv6Search(groups: ours).instructions(accept: accept))
            code.append(reject)
            instructions = code.resolved()
        }
    }

    /// The cBPF code of "the 16 bytes at X are one of `groups` ? accept : fall through": per
    /// group, its first three words compared (`jeq`, a miss skipping to the next group, through
    /// a `ja` trampoline when the group is longer than a conditional jump reaches), then its
    /// last word searched by ``RangeSearch``. Linear in the groups (one per distinct 96-bit
    /// prefix: a few in a usual config), logarithmic in the ranges inside each.
    struct IPv6Search {
        let groups: [IPv6Group]

        func instructions(accept: Instruction) -> [Instruction] {
            var code: [Instruction] = []
            for group in groups {
                let search = RangeSearch(ranges: group.last).instructions(accept: accept)
                let words = [UInt32(truncatingIfNeeded: group.high >> 32), UInt32(truncatingIfNeeded: group.high), group.third]
                // Each compare is followed by the rest: 2 per remaining word, the last load, the search.
                let far = 3 * 3 + 1 + search.count > RangeSearch.longestJump
                for (index, word) in words.enumerated() {
                    code.append(Instruction(code: Op.ldwIndirect, k: UInt32(4 * index)))
                    let remaining = (2 - index) * (far ? 3 : 2) + 1 + search.count
                    if far {
                        code.append(Instruction(code: Op.jeq, jt: 1, jf: 0, k: word))
                        code.append(Instruction(code: Op.ja, k: UInt32(remaining)))
                    } else {
                        code.append(Instruction(code: Op.jeq, jt: 0, jf: UInt8(remaining), k: word))
                    }
                }
                code.append(Instruction(code: Op.ldwIndirect, k: 12))
                code += search
            }
            return code
        }
    }

    /// A few instructions with symbolic forward jumps, resolved into offsets.
    struct Assembly {
        /// Where a jump goes: the next instruction or a label further on.
        enum Target: ExpressibleByStringLiteral {
            case next
            case label(String)
            init(stringLiteral value: String) { self = .label(value) }
        }

        private var code: [Instruction] = []
        private var labels: [String: Int] = [:]
        private var conditional: [(index: Int, whenTrue: Target, whenFalse: Target)] = []
        private var unconditional: [(index: Int, label: String)] = []

        var count: Int { code.count }

        mutating func append(_ instruction: Instruction) { code.append(instruction) }
        mutating func append(contentsOf instructions: [Instruction]) { code += instructions }
        mutating func label(_ name: String) { labels[name] = code.count }

        mutating func jump(_ opcode: UInt16, k: UInt32, true whenTrue: Target, false whenFalse: Target) {
            conditional.append((code.count, whenTrue, whenFalse))
            code.append(Instruction(code: opcode, k: k))
        }

        mutating func always(_ label: String) {
            unconditional.append((code.count, label))
            code.append(Instruction(code: Op.ja))
        }

        func resolved() -> [Instruction] {
            var result = code
            func offset(from index: Int, to target: Target) -> Int {
                guard case .label(let name) = target else { return 0 }
                guard let destination = labels[name] else { preconditionFailure("capture filter: no label \(name)") }
                precondition(destination > index, "capture filter: backward jump to \(name)")
                return destination - index - 1
            }
            for jump in conditional {
                let whenTrue = offset(from: jump.index, to: jump.whenTrue)
                let whenFalse = offset(from: jump.index, to: jump.whenFalse)
                precondition(whenTrue <= RangeSearch.longestJump && whenFalse <= RangeSearch.longestJump, "capture filter: jump too far")
                result[jump.index].jt = UInt8(whenTrue)
                result[jump.index].jf = UInt8(whenFalse)
            }
            for jump in unconditional {
                result[jump.index].k = UInt32(offset(from: jump.index, to: .label(jump.label)))
            }
            return result
        }
    }
}
