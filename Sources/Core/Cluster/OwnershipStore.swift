/// The port through which cluster mode talks to its consensus store (etcd in production):
/// one lease per host, keys claimed and released in transactions, a watch on the prefix.
///
/// The actors see only this protocol, never HTTP; ProxyARPEtcd implements it over etcd's
/// v3 JSON gateway. Every method may throw ``OwnershipStoreError``; a thrown call changed
/// nothing that the caller can rely on (a claim that timed out may still have succeeded:
/// the watch or the next ``list(prefix:)`` tells).
public protocol OwnershipStore: Sendable {
    /// Grants a lease of at least `ttl` (the server may raise it to its minimum).
    func grantLease(ttl: Duration) async throws(OwnershipStoreError) -> LeaseGrant

    /// Renews `lease` once. Returns the TTL the server granted, or nil when the lease no
    /// longer exists (expired or revoked): the caller must fence at once.
    func keepAlive(_ lease: LeaseID) async throws(OwnershipStoreError) -> Duration?

    /// Revokes `lease`, deleting every key written with it.
    func revokeLease(_ lease: LeaseID) async throws(OwnershipStoreError)

    /// Creates `key` with `value` under `lease` only if the key does not exist
    /// (`create_revision == 0`). On success the key's revision is the fencing token.
    func claim(key: String, value: String, lease: LeaseID) async throws(OwnershipStoreError) -> ClaimOutcome

    /// Deletes `key` only if it is still the one created at `token` (its `create_revision`).
    /// Returns false when the key is gone or belongs to another claim.
    func release(key: String, token: FencingToken) async throws(OwnershipStoreError) -> Bool

    /// Puts `key` back under `lease` with `value` only if it is still the one created at
    /// `token`: a held key that someone rewrote by hand (which detached it from the lease)
    /// is ours again, with the same token. Returns false when the key is gone or belongs to
    /// another claim.
    func reassert(key: String, value: String, lease: LeaseID, token: FencingToken) async throws(OwnershipStoreError) -> Bool

    /// Every key under `prefix`, with the store revision they were read at.
    func list(prefix: String) async throws(OwnershipStoreError) -> OwnershipSnapshot

    /// Watches `prefix` from the revision after `afterRevision` and hands each batch of
    /// changes to `onChanges`, in order, until the task is cancelled (then it returns) or
    /// the watch fails: it throws ``OwnershipStoreError/compacted(_:)`` when the store
    /// compacted past `afterRevision`, ``OwnershipStoreError/silent`` when nothing arrived
    /// for longer than the adapter's silence limit, or another error when the connection
    /// failed. The caller then lists again and watches anew.
    func watch(
        prefix: String, afterRevision: Int64, onChanges: @escaping @Sendable ([OwnershipChange]) async -> Void
    ) async throws(OwnershipStoreError)
}

/// An etcd lease id.
public struct LeaseID: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    /// The server's 64-bit id.
    public var rawValue: Int64
    /// Wraps a server id.
    public init(rawValue: Int64) { self.rawValue = rawValue }
    /// Hexadecimal, as `etcdctl lease list` prints it.
    public var description: String { String(UInt64(bitPattern: rawValue), radix: 16) }
}

/// A granted lease.
public struct LeaseGrant: Sendable, Hashable {
    /// Its id.
    public var id: LeaseID
    /// The TTL the server granted (possibly more than asked).
    public var ttl: Duration
    /// Creates a grant.
    public init(id: LeaseID, ttl: Duration) {
        self.id = id
        self.ttl = ttl
    }
}

/// The revision at which a claim created its key: any later write by another host has a
/// larger one, so a release guarded by it can never delete someone else's key.
public struct FencingToken: RawRepresentable, Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The key's `create_revision`.
    public var rawValue: Int64
    /// Wraps a revision.
    public init(rawValue: Int64) { self.rawValue = rawValue }
    /// `a < b` when `a` was created first.
    public static func < (lhs: FencingToken, rhs: FencingToken) -> Bool { lhs.rawValue < rhs.rawValue }
    /// The revision in decimal.
    public var description: String { String(rawValue) }
}

/// One ownership key as the store holds it.
public struct OwnershipRecord: Sendable, Hashable {
    /// The full key (prefix included).
    public var key: String
    /// The value: the owner's host name when a proxyarpd wrote it.
    public var value: String
    /// The fencing token of the claim that created it.
    public var token: FencingToken
    /// The lease it was written with (nil: none, so not ours).
    public var lease: LeaseID?
    /// Creates a record.
    public init(key: String, value: String, token: FencingToken, lease: LeaseID?) {
        self.key = key
        self.value = value
        self.token = token
        self.lease = lease
    }
}

/// The result of ``OwnershipStore/claim(key:value:lease:)``.
public enum ClaimOutcome: Sendable, Hashable {
    /// The key is ours; the token fences this claim.
    case claimed(FencingToken)
    /// The key already exists: the current holder (nil if it vanished in between).
    case taken(OwnershipRecord?)
}

/// A consistent listing of the prefix.
public struct OwnershipSnapshot: Sendable, Hashable {
    /// The keys, sorted by key.
    public var records: [OwnershipRecord]
    /// The store revision the listing was read at: watch after it.
    public var revision: Int64
    /// Creates a snapshot.
    public init(records: [OwnershipRecord], revision: Int64) {
        self.records = records
        self.revision = revision
    }
}

/// One change seen by a watch.
public enum OwnershipChange: Sendable, Hashable {
    /// A key was created or rewritten.
    case put(OwnershipRecord, revision: Int64)
    /// A key was deleted (released, revoked or its lease expired).
    case delete(key: String, revision: Int64)
}

/// Why a store call failed.
public enum OwnershipStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No endpoint could be reached (connection refused, timeout); the text says which.
    case unreachable(String)
    /// An endpoint answered with an error status or a body that could not be read.
    case protocolError(String)
    /// Authentication failed.
    case unauthenticated(String)
    /// The watch start revision was compacted away; list again. Carries the compact revision.
    case compacted(Int64)
    /// The watch got nothing for longer than its silence limit.
    case silent

    /// For logs.
    public var description: String {
        switch self {
        case .unreachable(let text): "etcd unreachable: \(text)"
        case .protocolError(let text): "etcd protocol error: \(text)"
        case .unauthenticated(let text): "etcd authentication failed: \(text)"
        case .compacted(let revision): "watch start compacted (compact revision \(revision))"
        case .silent: "watch silent too long"
        }
    }
}
