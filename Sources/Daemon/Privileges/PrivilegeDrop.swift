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
        /// The capabilities the leader thread kept, as libcap names them.
        var capabilities: String
    }

    /// Looks `user` up and carries out its ``PrivilegePlan``.
    static func perform(user: String, stateDirectory: String) throws(PrivilegeDropError) -> Identity {
        guard LeaderThread.isLeaderThread else {
            throw PrivilegeDropError(step: "thread", message: "the privilege drop must run on the main thread", code: 0)
        }
        let plan = PrivilegePlan(account: try lookUp(user), stateDirectory: stateDirectory)
        return try perform(plan)
    }

    /// Carries out `plan` on this (the leader) thread.
    static func perform(_ plan: PrivilegePlan) throws(PrivilegeDropError) -> Identity {
        let (uid, gid, name) = (plan.account.uid, plan.account.gid, plan.account.name)
        try prepareStateDirectory(plan)

        guard proxyarpd_prctl2(PR_SET_KEEPCAPS, 1) == 0 else { throw .errno("prctl(PR_SET_KEEPCAPS, 1)") }
        guard initgroups(name, gid) == 0 else { throw .errno("initgroups(\(name), \(gid))") }
        guard proxyarpd_setresgid(gid) == 0 else { throw .errno("setresgid(\(gid))") }
        guard proxyarpd_setresuid(uid) == 0 else { throw .errno("setresuid(\(uid))") }

        guard let caps = cap_init() else { throw .errno("cap_init") }
        defer { cap_free(UnsafeMutableRawPointer(caps)) }
        let kept = plan.keptCapabilities.map(\.value)
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
        if let problem = plan.problem(realUID: ruid, effectiveUID: euid, savedUID: suid, effectiveGID: getegid()) {
            throw PrivilegeDropError(step: "verify", message: problem, code: 0)
        }
        guard !plan.mustNotRegainRoot || setuid(0) != 0 else {
            throw PrivilegeDropError(step: "verify", message: "setuid(0) still succeeds", code: 0)
        }
        let count = getgroups(0, nil)
        var groups = [gid_t](repeating: 0, count: Int(max(count, 0)))
        _ = groups.withUnsafeMutableBufferPointer { getgroups(count, $0.baseAddress) }
        return Identity(user: name, uid: uid, gid: gid, groups: groups, capabilities: plan.capabilityNames)
    }

    private static func lookUp(_ user: String) throws(PrivilegeDropError) -> PrivilegePlan.Account {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        let status = getpwnam_r(user, &entry, &buffer, buffer.count, &result)
        guard status == 0, result != nil else {
            throw PrivilegeDropError(
                step: "getpwnam", message: "no user \"\(user)\"", code: status == 0 ? ENOENT : status)
        }
        return PrivilegePlan.Account(name: String(cString: entry.pw_name), uid: entry.pw_uid, gid: entry.pw_gid)
    }

    private static func prepareStateDirectory(_ plan: PrivilegePlan) throws(PrivilegeDropError) {
        for directory in plan.directoriesToCreate {
            if mkdir(directory, 0o755) != 0 && errno != EEXIST { throw .errno("mkdir \(directory)") }
        }
        // chmod while root still owns it (after the chown it would need CAP_FOWNER).
        let path = plan.stateDirectory
        guard chmod(path, plan.stateDirectoryMode) == 0 else { throw .errno("chmod \(path)") }
        guard chown(path, plan.account.uid, plan.account.gid) == 0 else { throw .errno("chown \(path)") }
    }
}

