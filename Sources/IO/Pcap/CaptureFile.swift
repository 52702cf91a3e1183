import CPcap
import ProxyARPCore

/// The frames of a pcap capture file, read with libpcap's `pcap_open_offline`.
///
/// For tests and replay: the whole file is read into memory, one array per frame.
public struct CaptureFile: Sendable {
    /// The libpcap link-layer type of the file (`DLT_EN10MB` = 1 for Ethernet).
    public let linkType: Int32
    /// The captured bytes of every frame, in file order (at most the snapshot length each).
    public let frames: [[UInt8]]
    /// When each frame was captured, wall-clock nanoseconds since the Unix epoch
    /// (microsecond resolution in classic pcap files).
    public let timestamps: [Int64]

    /// The link type of Ethernet captures.
    public static let ethernetLinkType: Int32 = 1

    /// Reads every frame of the capture at `path`.
    /// - Throws: ``CaptureFileError`` when libpcap cannot open or read the file, or when
    ///   `requireEthernet` is true and the file is not an Ethernet capture.
    public init(path: String, requireEthernet: Bool = true) throws(CaptureFileError) {
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        let handle = errorBuffer.withUnsafeMutableBufferPointer { pcap_open_offline(path, $0.baseAddress) }
        guard let handle else {
            throw CaptureFileError(path: path, reason: .cannotOpen(Self.string(from: errorBuffer)))
        }
        defer { pcap_close(handle) }

        let linkType = pcap_datalink(handle)
        if requireEthernet && linkType != Self.ethernetLinkType {
            throw CaptureFileError(path: path, reason: .notEthernet(linkType: linkType))
        }

        var frames: [[UInt8]] = []
        var timestamps: [Int64] = []
        while true {
            var header: UnsafeMutablePointer<pcap_pkthdr>?
            var data: UnsafePointer<UInt8>?
            let status = pcap_next_ex(handle, &header, &data)
            if status == 1, let header, let data {
                let length = Int(header.pointee.caplen)
                frames.append(Array(UnsafeBufferPointer(start: data, count: length)))
                let time = header.pointee.ts
                timestamps.append(Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_usec) * 1_000)
            } else if status == PCAP_ERROR_BREAK {  // -2: end of file
                break
            } else {
                let message = pcap_geterr(handle).map { String(cString: $0) } ?? "status \(status)"
                throw CaptureFileError(path: path, reason: .readFailed(message, framesRead: frames.count))
            }
        }
        self.linkType = linkType
        self.frames = frames
        self.timestamps = timestamps
    }

    private static func string(from buffer: [CChar]) -> String {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A capture file that could not be read.
public struct CaptureFileError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Reason: Hashable, Sendable {
        /// `pcap_open_offline` failed, with libpcap's message (missing file, not a pcap...).
        case cannotOpen(String)
        /// The file's link type is not Ethernet.
        case notEthernet(linkType: Int32)
        /// `pcap_next_ex` failed part-way, with libpcap's message.
        case readFailed(String, framesRead: Int)
    }

    /// The file's path as given.
    public let path: String
    /// What went wrong.
    public let reason: Reason

    /// Creates an error.
    public init(path: String, reason: Reason) {
        self.path = path
        self.reason = reason
    }

    /// A one-line explanation naming the file.
    public var description: String {
        switch reason {
        case .cannotOpen(let message): "cannot open capture file \(path): \(message)"
        case .notEthernet(let linkType): "capture file \(path) has link type \(linkType), not Ethernet (1)"
        case .readFailed(let message, let framesRead):
            "error reading capture file \(path) after \(framesRead) frames: \(message)"
        }
    }
}
