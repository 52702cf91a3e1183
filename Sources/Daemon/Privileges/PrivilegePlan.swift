import CCap
import Glibc

/// What the switch to `daemon.user` does and keeps, as a value computed before any system
/// call: the ids to switch to, the capabilities the leader thread keeps, the state
/// directory to hand over, and what the kernel must report afterwards.
/// ``PrivilegeDrop`` carries it out.
struct PrivilegePlan: Sendable, Equatable {
    /// A user account, as `getpwnam_r` returns it.
    struct Account: Sendable, Equatable {
        /// The login name (for `initgroups`).
        var name: String
        /// Its uid.
        var uid: uid_t
        /// Its primary gid.
        var gid: gid_t
    }

    /// A capability the daemon may keep.
    enum Capability: Int32, Sendable, CaseIterable, Comparable {
        /// Policy rules, routes, addresses, net sysctls.
        case netAdmin = 12
        /// Packet sockets (pcap capture and inject).
        case netRaw = 13

        /// The libcap name, as `getpcaps` prints it.
        var name: String {
            switch self {
            case .netAdmin: "cap_net_admin"
            case .netRaw: "cap_net_raw"
            }
        }

        /// libcap's value.
        var value: cap_value_t { cap_value_t(rawValue) }

        static func < (lhs: Capability, rhs: Capability) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// The account to switch to.
    var account: Account
    /// `daemon.state_directory`: created if missing and given to the account.
    var stateDirectory: String

    /// Kept in the permitted and effective sets of the leader thread; every other
    /// capability, and every capability of every other thread, is gone.
    var keptCapabilities: [Capability] { [.netAdmin, .netRaw] }

    /// `CapEff` of the leader thread afterwards, as `/proc/PID/status` shows it (0x3000).
    var effectiveMask: UInt64 {
        keptCapabilities.reduce(0) { $0 | (1 << UInt64($1.rawValue)) }
    }

    /// The kept capabilities as the log names them: `cap_net_admin,cap_net_raw`.
    var capabilityNames: String { keptCapabilities.sorted().map(\.name).joined(separator: ",") }

    /// The state directory's mode once handed over (set while root still owns it).
    var stateDirectoryMode: mode_t { 0o750 }

    /// Every directory from the root down to the state directory, in creation order
    /// (`mkdir -p`).
    var directoriesToCreate: [String] {
        var current = ""
        return stateDirectory.split(separator: "/").map { component in
            current += "/\(component)"
            return current
        }
    }

    /// True when getting root back must fail afterwards (every account but root itself).
    var mustNotRegainRoot: Bool { account.uid != 0 }

    /// What is wrong with the ids the kernel reports after the switch; nil when they are
    /// the account's.
    func problem(realUID: uid_t, effectiveUID: uid_t, savedUID: uid_t, effectiveGID: gid_t) -> String? {
        let uid = account.uid
        guard realUID == uid, effectiveUID == uid, savedUID == uid, effectiveGID == account.gid else {
            return "ids are \(realUID)/\(effectiveUID)/\(savedUID), gid \(effectiveGID); expected \(uid), gid \(account.gid)"
        }
        return nil
    }
}
