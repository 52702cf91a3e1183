import CPcap
import Glibc
import Synchronization

/// A live libpcap capture on one interface, owned by exactly one value: not copyable,
/// closed exactly once, by ``close()`` or when the value's lifetime ends.
///
/// Opened ready for a poll loop: immediate mode, a BPF filter, a direction, nonblocking,
/// with a selectable file descriptor (``selectableFileDescriptor``).
/// Not thread-safe: use it from one thread at a time (the ``AdapterIO`` actor's thread).
public struct PcapHandle: ~Copyable {
    /// The libpcap handle; valid until `deinit`.
    let raw: OpaquePointer
    /// The interface name.
    public let device: String
    /// A file descriptor that polls readable when frames are waiting.
    public let selectableFileDescriptor: Int32
    /// The link-layer type (`DLT_EN10MB` = 1 for Ethernet).
    public let linkType: Int32

    private static let liveHandles = Atomic<Int>(0)

    /// How many handles are open in this process right now (for metrics and tests).
    public static var openCount: Int { liveHandles.load(ordering: .relaxed) }

    private init(raw: OpaquePointer, device: String, selectableFileDescriptor: Int32, linkType: Int32) {
        self.raw = raw
        self.device = device
        self.selectableFileDescriptor = selectableFileDescriptor
        self.linkType = linkType
        Self.liveHandles.wrappingAdd(1, ordering: .relaxed)
    }

    /// Opens a live capture on `device`: `pcap_create`, snapshot length, immediate mode,
    /// buffer size, promiscuous mode, `pcap_activate`, the filter, the direction,
    /// nonblocking mode, and the selectable descriptor.
    /// - Throws: ``PcapError`` naming the step that failed and libpcap's message
    ///   (no such device, permission denied, a bad filter...). Nothing leaks on failure.
    public static func openLive(device: String, options: PcapOptions = PcapOptions()) throws(PcapError) -> PcapHandle {
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        let created = errorBuffer.withUnsafeMutableBufferPointer { pcap_create(device, $0.baseAddress) }
        guard let pcap = created else {
            throw PcapError(device: device, operation: "pcap_create", message: string(from: errorBuffer))
        }
        var closeOnFailure = true
        defer { if closeOnFailure { pcap_close(pcap) } }

        func check(_ status: Int32, _ operation: String) throws(PcapError) {
            guard status != 0 else { return }
            throw PcapError(device: device, operation: operation, message: message(pcap, status: status))
        }
        try check(pcap_set_snaplen(pcap, options.snapshotLength), "pcap_set_snaplen")
        try check(pcap_set_immediate_mode(pcap, 1), "pcap_set_immediate_mode")
        try check(pcap_set_buffer_size(pcap, options.bufferSize), "pcap_set_buffer_size")
        try check(pcap_set_promisc(pcap, options.promiscuous ? 1 : 0), "pcap_set_promisc")
        let activation = pcap_activate(pcap)
        // Positive values are warnings (e.g. promiscuous mode not supported): carry on.
        if activation < 0 { try check(activation, "pcap_activate") }

        let linkType = pcap_datalink(pcap)
        guard linkType == DLT_EN10MB else {
            throw PcapError(device: device, operation: "pcap_datalink", message: "link type \(linkType) is not Ethernet")
        }

        var program = bpf_program()
        try check(pcap_compile(pcap, &program, options.filter, 1, PCAP_NETMASK_UNKNOWN), "pcap_compile")
        defer { pcap_freecode(&program) }
        try check(pcap_setfilter(pcap, &program), "pcap_setfilter")
        try check(pcap_setdirection(pcap, options.inboundOnly ? PCAP_D_IN : PCAP_D_INOUT), "pcap_setdirection")

        let nonblocking = errorBuffer.withUnsafeMutableBufferPointer { pcap_setnonblock(pcap, 1, $0.baseAddress) }
        guard nonblocking == 0 else {
            throw PcapError(device: device, operation: "pcap_setnonblock", message: string(from: errorBuffer))
        }
        let descriptor = pcap_get_selectable_fd(pcap)
        guard descriptor >= 0 else {
            throw PcapError(device: device, operation: "pcap_get_selectable_fd", message: "no selectable descriptor")
        }
        closeOnFailure = false
        return PcapHandle(raw: pcap, device: device, selectableFileDescriptor: descriptor, linkType: linkType)
    }

    /// Sends one complete Ethernet frame (`pcap_inject`).
    /// - Throws: ``PcapError`` with `pcap_geterr`'s text when the kernel refused it, or
    ///   when fewer bytes than the frame's were sent.
    public func inject(_ bytes: UnsafeRawBufferPointer) throws(PcapError) {
        let sent = pcap_inject(raw, bytes.baseAddress, bytes.count)
        guard sent != bytes.count else { return }
        let message = sent < 0 ? Self.message(raw, status: Int32(sent)) : "sent \(sent) of \(bytes.count) bytes"
        throw PcapError(device: device, operation: "pcap_inject", message: message)
    }

    /// Processes at most `maximumFrames` waiting frames with `callback` (`pcap_dispatch`).
    /// Returns the number processed (0 when none waits), or -1 on error (see ``lastError``).
    public func dispatch(
        maximumFrames: Int32,
        callback: pcap_handler,
        context: UnsafeMutableRawPointer?
    ) -> Int32 {
        pcap_dispatch(raw, maximumFrames, callback, context?.assumingMemoryBound(to: UInt8.self))
    }

    /// libpcap's text for the last error on this handle (`pcap_geterr`).
    public var lastError: String { Self.message(raw, status: PCAP_ERROR) }

    /// The kernel's counters: frames received and dropped (`pcap_stats`), or nil.
    public func statistics() -> (received: UInt32, dropped: UInt32)? {
        var stats = pcap_stat()
        guard pcap_stats(raw, &stats) == 0 else { return nil }
        return (stats.ps_recv, stats.ps_drop)
    }

    /// Closes the handle now. The value is consumed, so it cannot be used or closed again.
    public consuming func close() {
        // Ending `self`'s lifetime here runs `deinit`, which closes the handle.
    }

    deinit {
        pcap_close(raw)
        Self.liveHandles.wrappingSubtract(1, ordering: .relaxed)
    }

    private static func message(_ pcap: OpaquePointer, status: Int32) -> String {
        let detail = pcap_geterr(pcap).map { String(cString: $0) } ?? ""
        let summary = String(cString: pcap_statustostr(status))
        if detail.isEmpty { return summary }
        return status == PCAP_ERROR ? detail : "\(summary) (\(detail))"
    }

    private static func string(from buffer: [CChar]) -> String {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
