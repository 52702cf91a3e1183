/// An eBPF `tc` classifier (direct action, `BPF_PROG_TYPE_SCHED_CLS`) that drops, at an
/// adapter's ingress, the plain ARP requests whose target is one of the daemon's active
/// VIPs, so the kernel's ARP code (route look-up of the target, reverse-path check of the
/// sender) never runs for them. The daemon's capture is an `ETH_P_ALL` packet tap, which
/// sees every frame before `tc` ingress (verified on Linux 6.18: tcpdump still saw the
/// requests a `tc` ingress drop took from the kernel), so answering and observing are
/// unchanged.
///
/// Passed untouched: everything that is not an untagged Ethernet/IPv4 ARP request of at
/// least 42 bytes, probes (sender IP 0), gratuitous requests (sender IP = target IP: the
/// kernel updates its neighbour entries from them), and requests for any other target
/// (the adapters' own addresses, everything else).
///
/// Hand-assembled (no compiler at run time): 3 instructions per target range, compared
/// as 32-bit unsigned values (`BPF_JMP32`).
public struct ARPRequestDropProgram: Sendable, Equatable {
    /// One `struct bpf_insn`, as its 8 bytes in host (little-endian) order.
    public struct Instruction: Sendable, Equatable {
        /// Opcode.
        public var code: UInt8
        /// Destination register (low nibble) and source register (high nibble).
        public var registers: UInt8
        /// Jump offset.
        public var offset: Int16
        /// Immediate.
        public var immediate: Int32

        init(_ code: UInt8, dst: UInt8 = 0, src: UInt8 = 0, offset: Int16 = 0, immediate: Int32 = 0) {
            self.code = code
            self.registers = dst | (src << 4)
            self.offset = offset
            self.immediate = immediate
        }
    }

    /// The program.
    public let instructions: [Instruction]
    /// The target ranges it drops requests for (host-order values).
    public let ranges: [ClosedRange<UInt32>]

    /// The most ranges one program holds (the verifier's limits are far beyond: 3 × 4,096).
    public static let maximumRanges = 4_096

    /// `TC_ACT_OK` and `TC_ACT_SHOT`.
    static let pass: Int32 = 0
    static let drop: Int32 = 2

    /// The program dropping plain requests for `ranges`; nil beyond ``maximumRanges``.
    public init?(ranges: [ClosedRange<UInt32>]) {
        guard ranges.count <= Self.maximumRanges else { return nil }
        self.ranges = ranges
        let tail = 3 * ranges.count  // instructions after the header's last check, before `pass`
        // Registers: r1 context, r2 data, r3 data_end, r4 scratch, r5 loaded field, r6 target.
        // Every "goto pass" jumps to the instruction after the range checks.
        var header: [Instruction] = [
            Instruction(Op.ldxW, dst: 2, src: 1, offset: 76),  // r2 = skb->data
            Instruction(Op.ldxW, dst: 3, src: 1, offset: 80),  // r3 = skb->data_end
            Instruction(Op.movX, dst: 4, src: 2),  // r4 = r2
            Instruction(Op.addK, dst: 4, immediate: 42),  // r4 += 42
        ]
        // The checks, each "if not what a plain request looks like, pass"; offsets filled below.
        let checks: [Instruction] = [
            Instruction(Op.jgtX, dst: 4, src: 3),  // shorter than 42 bytes
            Instruction(Op.ldxH, dst: 5, src: 2, offset: 12),
            Instruction(Op.jneK, dst: 5, immediate: 0x0608),  // EtherType 0x0806
            Instruction(Op.ldxW, dst: 5, src: 2, offset: 14),
            Instruction(Op.jneK, dst: 5, immediate: 0x0008_0100),  // htype 1, ptype 0x0800
            Instruction(Op.ldxH, dst: 5, src: 2, offset: 18),
            Instruction(Op.jneK, dst: 5, immediate: 0x0406),  // hlen 6, plen 4
            Instruction(Op.ldxH, dst: 5, src: 2, offset: 20),
            Instruction(Op.jneK, dst: 5, immediate: 0x0100),  // opcode 1
            Instruction(Op.ldxW, dst: 5, src: 2, offset: 28),  // sender IP
            Instruction(Op.jeqK, dst: 5, immediate: 0),  // a probe
            Instruction(Op.ldxW, dst: 6, src: 2, offset: 38),  // target IP
            Instruction(Op.jeqX, dst: 6, src: 5),  // gratuitous
            Instruction(Op.toBigEndian, dst: 6, immediate: 32),  // r6 = target, host order
        ]
        for (index, check) in checks.enumerated() {
            var instruction = check
            if [Op.jgtX, Op.jneK, Op.jeqK, Op.jeqX].contains(check.code) {
                // Jump to `pass`: past the remaining checks and every range check.
                instruction.offset = Int16(checks.count - index - 1 + tail)
            }
            header.append(instruction)
        }
        var program = header
        for range in ranges {
            program.append(Instruction(Op.jlt32K, dst: 6, offset: 2, immediate: Int32(bitPattern: range.lowerBound)))  // below: next
            program.append(Instruction(Op.jgt32K, dst: 6, offset: 1, immediate: Int32(bitPattern: range.upperBound)))  // above: next
            program.append(Instruction(Op.ja))  // in range: drop (offset set below)
        }
        // The range blocks' jumps to `drop` (after `pass`'s two instructions).
        let rangesStart = header.count
        for index in 0..<ranges.count {
            let jump = rangesStart + 3 * index + 2
            let dropIndex = rangesStart + tail + 2
            program[jump].offset = Int16(dropIndex - jump - 1)
        }
        program.append(Instruction(Op.movK, dst: 0, immediate: Self.pass))
        program.append(Instruction(Op.exit))
        program.append(Instruction(Op.movK, dst: 0, immediate: Self.drop))
        program.append(Instruction(Op.exit))
        instructions = program
    }

    /// The program as the bytes `BPF_PROG_LOAD` takes (8 bytes an instruction).
    public var bytes: [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(instructions.count * 8)
        for instruction in instructions {
            result.append(instruction.code)
            result.append(instruction.registers)
            withUnsafeBytes(of: instruction.offset.littleEndian) { result.append(contentsOf: $0) }
            withUnsafeBytes(of: instruction.immediate.littleEndian) { result.append(contentsOf: $0) }
        }
        return result
    }

    /// eBPF opcodes (linux/bpf.h, linux/bpf_common.h).
    enum Op {
        static let ldxW: UInt8 = 0x61  // BPF_LDX | BPF_MEM | BPF_W
        static let ldxH: UInt8 = 0x69  // BPF_LDX | BPF_MEM | BPF_H
        static let movX: UInt8 = 0xbf  // BPF_ALU64 | BPF_MOV | BPF_X
        static let movK: UInt8 = 0xb7  // BPF_ALU64 | BPF_MOV | BPF_K
        static let addK: UInt8 = 0x07  // BPF_ALU64 | BPF_ADD | BPF_K
        static let jgtX: UInt8 = 0x2d  // BPF_JMP | BPF_JGT | BPF_X
        static let jneK: UInt8 = 0x55  // BPF_JMP | BPF_JNE | BPF_K
        static let jeqK: UInt8 = 0x15  // BPF_JMP | BPF_JEQ | BPF_K
        static let jeqX: UInt8 = 0x1d  // BPF_JMP | BPF_JEQ | BPF_X
        static let jlt32K: UInt8 = 0xa6  // BPF_JMP32 | BPF_JLT | BPF_K
        static let jgt32K: UInt8 = 0x26  // BPF_JMP32 | BPF_JGT | BPF_K
        static let ja: UInt8 = 0x05  // BPF_JMP | BPF_JA
        static let toBigEndian: UInt8 = 0xdc  // BPF_ALU | BPF_END | BPF_TO_BE
        static let exit: UInt8 = 0x95  // BPF_JMP | BPF_EXIT
    }
}
