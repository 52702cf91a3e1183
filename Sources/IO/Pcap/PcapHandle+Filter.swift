import CPcap
import ProxyARPCore

extension PcapHandle {
    /// Replaces the capture's filter with `program` (`pcap_setfilter`: the kernel filter
    /// of the capture socket; frames already in the ring are filtered again in user space
    /// by libpcap).
    /// - Throws: ``PcapError`` with libpcap's message when the program is refused.
    public func setFilter(_ program: CaptureFilterProgram) throws(PcapError) {
        var instructions = program.instructions.map { bpf_insn(code: $0.code, jt: $0.jt, jf: $0.jf, k: $0.k) }
        let status = instructions.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var code = bpf_program(bf_len: UInt32(buffer.count), bf_insns: buffer.baseAddress)
            return pcap_setfilter(raw, &code)
        }
        guard status == 0 else { throw PcapError(device: device, operation: "pcap_setfilter", message: lastError) }
    }

    /// Replaces the capture's filter with the compiled `expression` (`pcap_compile`,
    /// `pcap_setfilter`).
    /// - Throws: ``PcapError`` naming the failing call, with libpcap's message.
    public func setFilter(expression: String) throws(PcapError) {
        var program = bpf_program()
        guard pcap_compile(raw, &program, expression, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
            throw PcapError(device: device, operation: "pcap_compile", message: lastError)
        }
        defer { pcap_freecode(&program) }
        guard pcap_setfilter(raw, &program) == 0 else {
            throw PcapError(device: device, operation: "pcap_setfilter", message: lastError)
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
