#if canImport(Glibc)
import Glibc
#endif

/// Who may use the control socket: root, or a member of the configured group.
///
/// The socket file's mode (0660, group = the control group) is the first gate; this is
/// the second, checked on every accepted connection with `SO_PEERCRED`. A member is a
/// peer whose effective gid is the group's, or whose user lists the group among its
/// groups (`getgrouplist`, which includes the user's primary group from the passwd file).
public struct PeerAccess: Sendable, Equatable {
    /// The group allowed besides root, if any.
    public var groupID: gid_t?
    /// Its name, for messages.
    public var groupName: String?

    /// Root only.
    public static let rootOnly = PeerAccess(groupID: nil, groupName: nil)

    /// Creates a rule.
    public init(groupID: gid_t?, groupName: String?) {
        self.groupID = groupID
        self.groupName = groupName
    }

    /// Resolves `group` with `getgrnam_r`; nil means root only.
    public static func resolve(group name: String?) throws(ControlSocketError) -> PeerAccess {
        guard let group = name else { return .rootOnly }
        var entry = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        let status = getgrnam_r(group, &entry, &buffer, buffer.count, &result)
        guard status == 0, result != nil else {
            throw ControlSocketError(.misconfigured, "control group \(group) does not exist")
        }
        return PeerAccess(groupID: entry.gr_gid, groupName: group)
    }

    /// The credentials of the peer of a connected Unix socket (`SO_PEERCRED`).
    public static func peerCredentials(of fd: Int32) -> PeerCredentials? {
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; }: Glibc hides it behind _GNU_SOURCE.
        var raw: (Int32, UInt32, UInt32) = (0, 0, 0)
        var length = socklen_t(MemoryLayout<(Int32, UInt32, UInt32)>.size)
        let soPeerCred: Int32 = 17  // SO_PEERCRED (asm-generic/socket.h)
        guard getsockopt(fd, SOL_SOCKET, soPeerCred, &raw, &length) == 0, length == 12 else { return nil }
        return PeerCredentials(pid: raw.0, uid: raw.1, gid: raw.2)
    }

    /// Nil when `uid`/`gid` may connect, otherwise the reason for refusing.
    public func refusal(uid: uid_t, gid: gid_t) -> String? {
        if uid == 0 { return nil }
        guard let groupID else {
            return "permission denied: refused uid \(uid): the control socket is for root only"
        }
        if gid == groupID || Self.groups(of: uid).contains(groupID) { return nil }
        return "permission denied: refused uid \(uid): not root and not a member of group \(groupName ?? "\(groupID)")"
    }

    /// The groups of user `uid` from the user database (primary included); empty for an unknown uid.
    static func groups(of uid: uid_t) -> [gid_t] {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.pw_name else {
            return []
        }
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(name, entry.pw_gid, &groups, &count) == -1 {
            groups = [gid_t](repeating: 0, count: Int(count))
            guard getgrouplist(name, entry.pw_gid, &groups, &count) != -1 else { return [] }
        }
        return Array(groups.prefix(Int(count)))
    }
}

/// A connected peer's process, user and group ids at connect time.
public struct PeerCredentials: Sendable, Equatable {
    /// Process id.
    public var pid: Int32
    /// Effective uid.
    public var uid: uid_t
    /// Effective gid.
    public var gid: gid_t
}
