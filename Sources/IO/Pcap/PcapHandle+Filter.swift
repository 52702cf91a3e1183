import CPcap
import Glibc
import ProxyARPCore

extension PcapHandle {
    /// Replaces the capture socket's kernel filter with `program` in one atomic swap
    /// (``swapKernelFilter(_:)``): no frame is lost while the filter changes.
    /// - Throws: ``PcapError`` with the kernel's reason when the program is refused.
    public func setFilter(_ program: CaptureFilterProgram) throws(PcapError) {
        var instructions = program.instructions.map { bpf_insn(code: $0.code, jt: $0.jt, jf: $0.jf, k: $0.k) }
        try swapKernelFilter(&instructions)
    }

    /// Replaces the capture socket's kernel filter with the compiled `expression` in one
    /// atomic swap, as ``setFilter(_:)`` does (the way back from a narrowed filter).
    /// - Throws: ``PcapError`` naming the failing call.
    public func swapFilter(expression: String) throws(PcapError) {
        var program = bpf_program()
        guard pcap_compile(raw, &program, expression, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
            throw PcapError(device: device, operation: "pcap_compile", message: lastError)
        }
        defer { pcap_freecode(&program) }
        var instructions = Array(UnsafeBufferPointer(start: program.bf_insns, count: Int(program.bf_len)))
        try swapKernelFilter(&instructions)
    }

    /// `SO_ATTACH_FILTER` on the capture socket: the kernel replaces the program atomically.
    /// `pcap_setfilter` cannot be used for a live change: it first attaches a reject-all
    /// program and drains the socket, so frames arriving in between are lost (the bench saw
    /// requests go unanswered at every narrowing). libpcap's own copy of the filter is
    /// left as opened; it filters in user space only right after its own `pcap_setfilter`.
    private func swapKernelFilter(_ instructions: inout [bpf_insn]) throws(PcapError) {
        guard instructions.count <= Int(UInt16.max) else {
            throw PcapError(device: device, operation: "SO_ATTACH_FILTER", message: "\(instructions.count) instructions: too many")
        }
        let descriptor = pcap_fileno(raw)
        let status = instructions.withUnsafeMutableBufferPointer { buffer in
            cpcap_attach_kernel_filter(descriptor, buffer.baseAddress, UInt16(buffer.count))
        }
        guard status == 0 else {
            throw PcapError(device: device, operation: "SO_ATTACH_FILTER", message: String(cString: strerror(errno)))
        }
    }
}

extension CaptureFilterProgram {
    /// True when libpcap's `pcap_offline_filter` lets `frame` through this program (tests,
    /// tools: the same interpreter libpcap uses for frames it filters in user space).
    public func accepts(_ frame: [UInt8]) -> Bool {
        var instructions = self.instructions.map { bpf_insn(code: $0.code, jt: $0.jt, jf: $0.jf, k: $0.k) }
        return instructions.withUnsafeMutableBufferPointer { buffer in
            var code = bpf_program(bf_len: UInt32(buffer.count), bf_insns: buffer.baseAddress)
            var header = pcap_pkthdr()
            header.caplen = UInt32(frame.count)
            header.len = UInt32(frame.count)
            return frame.withUnsafeBufferPointer { pcap_offline_filter(&code, &header, $0.baseAddress) != 0 }
        }
    }
}
