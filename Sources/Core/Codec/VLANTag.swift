/// One IEEE 802.1Q / 802.1ad tag: its tag protocol identifier and its tag control
/// information (priority, drop eligibility, VLAN ID), exactly as seen on the wire so
/// that a reply can mirror it.
public struct VLANTag: Hashable, Sendable {
    /// The tag protocol identifier: ``EtherType/vlan`` (`0x8100`) or ``EtherType/serviceVLAN`` (`0x88A8`).
    public let tpid: UInt16
    /// The 16-bit tag control information: 3 bits priority, 1 bit DEI, 12 bits VLAN ID.
    public let tci: UInt16

    /// Creates a tag from its raw fields.
    public init(tpid: UInt16 = EtherType.vlan, tci: UInt16) {
        self.tpid = tpid
        self.tci = tci
    }

    /// Creates a tag from a VLAN ID (low 12 bits used) and a priority (low 3 bits used).
    public init(tpid: UInt16 = EtherType.vlan, vlanID: UInt16, priority: UInt8 = 0) {
        self.init(tpid: tpid, tci: UInt16(priority & 0x7) << 13 | (vlanID & 0x0FFF))
    }

    /// The 12-bit VLAN identifier.
    public var vlanID: UInt16 { tci & 0x0FFF }
    /// The 3-bit priority code point.
    public var priority: UInt8 { UInt8(truncatingIfNeeded: tci >> 13) }
    /// The drop eligible indicator.
    public var dropEligible: Bool { tci & 0x1000 != 0 }
}

/// The VLAN tags of one frame, outermost first: none, one, or two (QinQ).
///
/// A fixed-size value, so parsing a tagged frame allocates nothing.
public struct VLANTags: Hashable, Sendable {
    /// The most tags a frame may carry; a third is malformed (``MalformedFrameReason/tooManyVLANTags``).
    public static let maximumCount = 2

    /// How many tags are present, 0...2.
    public private(set) var count: Int
    private var first: VLANTag
    private var second: VLANTag

    /// No tags: an untagged frame.
    public init() {
        count = 0
        first = VLANTag(tci: 0)
        second = VLANTag(tci: 0)
    }

    /// One tag.
    public init(_ tag: VLANTag) {
        self.init()
        count = 1
        first = tag
    }

    /// Two tags, `outer` first on the wire (usually an 802.1ad S-tag), then `inner`.
    public init(outer: VLANTag, inner: VLANTag) {
        self.init()
        count = 2
        first = outer
        second = inner
    }

    /// True when the frame is untagged.
    public var isEmpty: Bool { count == 0 }

    /// The outermost tag, if any.
    public var outer: VLANTag? { count >= 1 ? first : nil }
    /// The second tag of a double-tagged frame, if any.
    public var inner: VLANTag? { count == 2 ? second : nil }

    /// The tag at `index` (0 is outermost). `index` must be below ``count``.
    public subscript(index: Int) -> VLANTag {
        precondition(index >= 0 && index < count, "VLAN tag index out of range")
        return index == 0 ? first : second
    }

    /// Appends an inner tag; returns false (and changes nothing) when two are already present.
    @discardableResult
    public mutating func append(_ tag: VLANTag) -> Bool {
        switch count {
        case 0: first = tag
        case 1: second = tag
        default: return false
        }
        count += 1
        return true
    }

    /// Bytes the tags add to an Ethernet header: 4 per tag.
    public var byteCount: Int { 4 * count }

    /// Equal when the same tags are present in the same order (unused slots are ignored).
    public static func == (lhs: VLANTags, rhs: VLANTags) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for index in 0..<lhs.count where lhs[index] != rhs[index] { return false }
        return true
    }

    /// Hashes the present tags only, consistent with `==`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        for index in 0..<count { hasher.combine(self[index]) }
    }
}
