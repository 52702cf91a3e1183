import CCap
import Glibc

/// The switch from root to `daemon.user`, keeping only CAP_NET_RAW and CAP_NET_ADMIN.
///
/// Order (on the leader thread, after every socket is open and the sysctls are set):
/// 1. look the user up (`getpwnam_r`); create the state directory and give it to the user
///    (trace dumps are written after the drop);
/// 2. `prctl(PR_SET_KEEPCAPS, 1)` on this thread, so it keeps its permitted set across
///    the uid change;
/// 3. `initgroups`, `setresgid`, `setresuid`: glibc applies them to every thread;
///    threads other than this one lose every capability (their keep-caps flag is off);
/// 4. libcap: `cap_set_proc` with permitted = effective = {CAP_NET_RAW, CAP_NET_ADMIN},
///    inheritable empty (the effective set was cleared by the uid change);
/// 5. `PR_SET_KEEPCAPS` back to 0, then check: uid/gid as asked, and `setuid(0)` refused.
///
/// What still works afterwards: sending and capturing on the open pcap handles (no
/// capability is checked after `socket()`), rtnetlink changes on the open socket (the
/// kernel checks CAP_NET_ADMIN of the sending thread: this one), writing
/// `/proc/sys/net/...` (CAP_NET_ADMIN gives root's access to net sysctls, so adapters
/// added by a reload are prepared too), the control and metrics sockets opened before.
/// What does not: capturing on an adapter that was not open at start (no new pcap handle
/// is opened by a reload anyway), binding a port below 1024, writing outside the state
/// directory.
enum PrivilegeDrop {
    /// The identity after the drop.
    struct Identity: Sendable, Equatable {
        var user: String
        var uid: uid_t
        var gid: gid_t
        var groups: [gid_t]
    }

    /// The capabilities kept: CAP_NET_RAW (13) and CAP_NET_ADMIN (12), mask 0x3000.
    static let keptCapabilities: [cap_value_t] = [cap_value_t(CAP_NET_ADMIN), cap_value_t(CAP_NET_RAW)]

    static func perform(user: String, stateDirectory: String) throws(PrivilegeDropError) -> Identity {
        guard LeaderThreadExecutor.isLeaderThread else {
            throw PrivilegeDropError(step: "thread", message: "the privilege drop must run on the main thread", code: 0)
        }
        let (uid, gid, name) = try lookUp(user)
        try prepareStateDirectory(stateDirectory, uid: uid, gid: gid)

        guard proxyarpd_prctl2(PR_SET_KEEPCAPS, 1) == 0 else { throw .errno("prctl(PR_SET_KEEPCAPS, 1)") }
        guard initgroups(name, gid) == 0 else { throw .errno("initgroups(\(name), \(gid))") }
        guard proxyarpd_setresgid(gid) == 0 else { throw .errno("setresgid(\(gid))") }
        guard proxyarpd_setresuid(uid) == 0 else { throw .errno("setresuid(\(uid))") }

        guard let caps = cap_init() else { throw .errno("cap_init") }
        defer { cap_free(UnsafeMutableRawPointer(caps)) }
        let kept = keptCapabilities
        let setFlags = kept.withUnsafeBufferPointer { values in
            cap_set_flag(caps, CAP_PERMITTED, Int32(values.count), values.baseAddress, CAP_SET) == 0
                && cap_set_flag(caps, CAP_EFFECTIVE, Int32(values.count), values.baseAddress, CAP_SET) == 0
        }
        guard setFlags else { throw .errno("cap_set_flag") }
        guard cap_set_proc(caps) == 0 else { throw .errno("cap_set_proc") }
        guard proxyarpd_prctl2(PR_SET_KEEPCAPS, 0) == 0 else { throw .errno("prctl(PR_SET_KEEPCAPS, 0)") }

        // Check what the kernel now says.
        var ruid = uid_t(), euid = uid_t(), suid = uid_t()
        proxyarpd_getresuid(&ruid, &euid, &suid)
        guard ruid == uid, euid == uid, suid == uid, getegid() == gid else {
            throw PrivilegeDropError(step: "verify", message: "ids are \(ruid)/\(euid)/\(suid), gid \(getegid())", code: 0)
        }
        guard uid == 0 || setuid(0) != 0 else {
            throw PrivilegeDropError(step: "verify", message: "setuid(0) still succeeds", code: 0)
        }
        let count = getgroups(0, nil)
        var groups = [gid_t](repeating: 0, count: Int(max(count, 0)))
        _ = groups.withUnsafeMutableBufferPointer { getgroups(count, $0.baseAddress) }
        return Identity(user: name, uid: uid, gid: gid, groups: groups)
    }

    private static func lookUp(_ user: String) throws(PrivilegeDropError) -> (uid_t, gid_t, String) {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        let status = getpwnam_r(user, &entry, &buffer, buffer.count, &result)
        guard status == 0, result != nil else {
            throw PrivilegeDropError(
                step: "getpwnam", message: "no user \"\(user)\"", code: status == 0 ? ENOENT : status)
        }
        return (entry.pw_uid, entry.pw_gid, String(cString: entry.pw_name))
    }

    private static func prepareStateDirectory(_ path: String, uid: uid_t, gid: gid_t) throws(PrivilegeDropError) {
        var current = ""
        for component in path.split(separator: "/") {
            current += "/\(component)"
            if mkdir(current, 0o755) != 0 && errno != EEXIST { throw .errno("mkdir \(current)") }
        }
        // chmod while root still owns it (after the chown it would need CAP_FOWNER).
        guard chmod(path, 0o750) == 0 else { throw .errno("chmod \(path)") }
        guard chown(path, uid, gid) == 0 else { throw .errno("chown \(path)") }
    }
}

/// A step of the privilege drop failed; the daemon stops rather than run as root.
struct PrivilegeDropError: Error, CustomStringConvertible {
    var step: String
    var message: String
    var code: Int32

    static func errno(_ step: String) -> PrivilegeDropError {
        let code = Glibc.errno
        return PrivilegeDropError(step: step, message: String(cString: strerror(code)), code: code)
    }

    var description: String { "privilege drop failed at \(step): \(message)" }
}
