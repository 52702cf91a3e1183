import Foundation
import ProxyARPActors
import ProxyARPCore
import ProxyARPStateMachines

/// One request on the control socket: a JSON object on one line.
///
/// `{"command":"status"}` (optionally `"all":true`, `"vip":"198.18.0.1"`, or `"limit":N,"offset":N`),
/// `{"command":"reload"}`, or
/// `{"command":"trace","vip":"198.18.0.1","adapter":"eth0","sinceNanoseconds":N,"follow":true}`
/// (every trace field optional).
public struct ControlRequest: Sendable, Equatable, Codable {
    /// What is asked.
    public enum Command: String, Sendable, Codable {
        case status
        case trace
        case reload
    }

    /// What is asked.
    public var command: Command
    /// `trace`: only records of this VIP.
    public var vip: String?
    /// `trace`: only records of this adapter.
    public var adapter: String?
    /// `trace`: only records with a wall time at or after this (nanoseconds since the epoch).
    public var sinceNanoseconds: Int64?
    /// `trace`: keep streaming new records until the client disconnects.
    public var follow: Bool?
    /// `status`: list every VIP, however many (the default lists them only up to
    /// ``StatusSelection/listingThreshold``, and summarizes above it).
    public var all: Bool?
    /// `status`: list at most this many VIPs (by address, from ``offset``).
    public var limit: Int?
    /// `status`: skip this many VIPs (by address) before listing.
    public var offset: Int?

    /// Creates a request.
    public init(
        command: Command, vip: String? = nil, adapter: String? = nil, sinceNanoseconds: Int64? = nil, follow: Bool? = nil,
        all: Bool? = nil, limit: Int? = nil, offset: Int? = nil
    ) {
        self.command = command
        self.vip = vip
        self.adapter = adapter
        self.sinceNanoseconds = sinceNanoseconds
        self.follow = follow
        self.all = all
        self.limit = limit
        self.offset = offset
    }

    /// `status`.
    public static let status = ControlRequest(command: .status)
    /// `reload`.
    public static let reload = ControlRequest(command: .reload)

    /// True when the cluster unit named `unit` (an address or a block) holds `vip`.
    public static func unit(_ unit: String, holds vip: String) -> Bool {
        guard let address = IPv4Address(vip) else { return unit == vip }
        if let subnet = IPv4Subnet(unit), unit.contains("/") { return subnet.contains(address) }
        return IPv4Address(unit) == address
    }

    /// True when `record` passes the trace filters (`vip` also matches the cluster unit holding it).
    public func matches(_ record: MachineTraceRecord) -> Bool {
        if let vip {
            switch record.subject {
            case .vip(let address):
                guard address.description == (IPAddress(vip)?.description ?? vip) else { return false }
            case .unit(let unit):
                // Cluster mode: the unit holding the VIP (the VIP itself, or its block).
                guard Self.unit(unit, holds: vip) else { return false }
            default:
                return false
            }
        }
        if let adapter {
            guard case .adapter(let name) = record.subject, name.rawValue == adapter else { return false }
        }
        if let sinceNanoseconds, record.wallNanoseconds < sinceNanoseconds { return false }
        return true
    }
}

/// One adapter's answer-path counters as `status` reports them (from the I/O layer).
public struct AdapterIOCounters: Sendable, Equatable, Codable {
    /// The adapter.
    public var adapter: AdapterName
    /// Frames the capture delivered.
    public var framesSeen: UInt64
    /// ARP requests among them.
    public var requestsSeen: UInt64
    /// Replies injected.
    public var repliesSent: UInt64
    /// Replies `pcap_inject` refused.
    public var injectErrors: UInt64
    /// Gratuitous ARPs and other control frames sent.
    public var controlFramesSent: UInt64
    /// Replies the XDP fast path sent (part of ``repliesSent``); nil without XDP.
    public var fastPathReplies: UInt64?
    /// Requests for another adapter's VIP the XDP fast path dropped; nil without XDP.
    public var fastPathDropped: UInt64?

    /// Creates counters.
    public init(adapter: AdapterName, framesSeen: UInt64 = 0, requestsSeen: UInt64 = 0, repliesSent: UInt64 = 0,
                injectErrors: UInt64 = 0, controlFramesSent: UInt64 = 0) {
        self.adapter = adapter
        self.framesSeen = framesSeen
        self.requestsSeen = requestsSeen
        self.repliesSent = repliesSent
        self.injectErrors = injectErrors
        self.controlFramesSent = controlFramesSent
    }
}

/// The `status` reply's payload: the engine's view, the I/O counters, and the daemon's
/// clocks at the time of the reply (so that a client can turn `since` into an age).
public struct StatusReport: Sendable, Equatable, Codable {
    /// VIPs and adapters from the engine.
    public var engine: EngineStatus
    /// Per-adapter I/O counters.
    public var io: [AdapterIOCounters]
    /// ARP replies sent per VIP (text form of the address → count), over all adapters;
    /// only for the VIPs listed.
    public var repliesByVIP: [String: UInt64]?
    /// Counts over every VIP, and the VIPs that are not active (capped); set when the
    /// reply lists only some VIPs or none.
    public var summary: StatusSummary?
    /// Cluster mode: this host's lease, fence and the owner of each unit; nil without it.
    public var cluster: ClusterStatus?
    /// The daemon's monotonic clock when the status was taken (same scale as `since`).
    public var monotonicNanoseconds: Int64
    /// The daemon's wall clock then, nanoseconds since the epoch.
    public var wallNanoseconds: Int64

    /// Creates a report.
    public init(
        engine: EngineStatus, io: [AdapterIOCounters], repliesByVIP: [String: UInt64]? = nil,
        monotonicNanoseconds: Int64, wallNanoseconds: Int64
    ) {
        self.engine = engine
        self.io = io
        self.repliesByVIP = repliesByVIP
        self.monotonicNanoseconds = monotonicNanoseconds
        self.wallNanoseconds = wallNanoseconds
    }
}

/// One reply line. A `trace` request is answered by trace records (one per line, the
/// ``TraceFile`` encoding) and, unless it follows, a closing reply with `end` set.
public struct ControlReply: Sendable, Equatable, Codable {
    /// False when the request was refused or failed.
    public var ok: Bool
    /// Why not, when `ok` is false.
    public var error: String?
    /// The cause, when `ok` is false: what a client branches on (`error` is for people).
    public var code: ControlErrorCode?
    /// Every problem, for a refused reload (`file:line: reason`).
    public var errors: [String]?
    /// `status`.
    public var status: StatusReport?
    /// `reload`.
    public var reload: ReloadSummary?
    /// `trace` without follow: the end of the records, with their count.
    public var end: TraceEnd?
    /// `trace --follow`: records this client missed so far because it read too slowly
    /// (its backlog was full); sent between records, once there is room again.
    public var followDropped: UInt64?

    /// The end of a trace reply.
    public struct TraceEnd: Sendable, Equatable, Codable {
        /// Records sent.
        public var records: Int
        /// Records the ring had dropped before (lost to everyone).
        public var dropped: UInt64

        /// Creates an end marker.
        public init(records: Int, dropped: UInt64) {
            self.records = records
            self.dropped = dropped
        }
    }

    /// Creates a reply.
    public init(ok: Bool, error: String? = nil, code: ControlErrorCode? = nil, errors: [String]? = nil,
                status: StatusReport? = nil, reload: ReloadSummary? = nil, end: TraceEnd? = nil, followDropped: UInt64? = nil) {
        self.ok = ok
        self.error = error
        self.code = code
        self.errors = errors
        self.status = status
        self.reload = reload
        self.end = end
        self.followDropped = followDropped
    }

    /// A failure, with its cause.
    public static func failure(_ message: String, code: ControlErrorCode = .failed, errors: [String]? = nil) -> ControlReply {
        ControlReply(ok: false, error: message, code: code, errors: errors)
    }
}

/// Encodes and decodes the control socket's lines (JSON, sorted keys, one object a line).
public enum ControlCodec {
    /// A line that could not be decoded.
    public struct BadLine: Error, CustomStringConvertible {
        /// What the decoder said.
        public var reason: String
        /// `bad request: REASON`.
        public var description: String { "not a valid control message: \(reason)" }
    }

    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }

    /// `value` as one line of JSON, newline included (``JSONLines`` framing).
    public static func line<T: Encodable>(_ value: T) throws -> String {
        let encoder = encoder()
        return String(decoding: try JSONLines.encode([value]) { value throws in Array(try encoder.encode(value)) }, as: UTF8.self)
    }

    /// Decodes one line (without its newline).
    public static func decode<T: Decodable>(_ type: T.Type, from line: some StringProtocol) throws(BadLine) -> T {
        let decoder = JSONDecoder()
        let values: [T]
        do {
            values = try JSONLines.decode(line.utf8) { try decoder.decode(type, from: Data($0)) }
        } catch {
            throw BadLine(reason: error.reason)
        }
        guard values.count == 1, let value = values.first else {
            throw BadLine(reason: values.isEmpty ? "empty line" : "more than one line")
        }
        return value
    }

    /// The line as a ``ControlReply``, or nil when it is something else (a trace record:
    /// records have no `ok`, which every reply has).
    public static func reply(_ line: some StringProtocol) -> ControlReply? {
        try? decode(ControlReply.self, from: line)
    }
}
