import CCap
import Glibc
@testable import ProxyARPDaemon
import Testing

@Suite("Privilege plan: what the switch to daemon.user keeps")
struct PrivilegePlanTests {
    let plan = PrivilegePlan(
        account: .init(name: "proxyarpd", uid: 998, gid: 997), stateDirectory: "/var/lib/proxyarpd")

    @Test("Only CAP_NET_ADMIN and CAP_NET_RAW are kept: CapEff 0x3000")
    func capabilities() {
        #expect(plan.keptCapabilities == [.netAdmin, .netRaw])
        #expect(plan.keptCapabilities.map(\.value) == [cap_value_t(CAP_NET_ADMIN), cap_value_t(CAP_NET_RAW)])
        #expect(plan.effectiveMask == 0x3000)
        #expect(plan.capabilityNames == "cap_net_admin,cap_net_raw")
    }

    @Test("The kernel's ids after the switch must be exactly the account's")
    func verification() {
        #expect(plan.problem(realUID: 998, effectiveUID: 998, savedUID: 998, effectiveGID: 997) == nil)
        // A saved uid of 0 would let the process become root again.
        #expect(plan.problem(realUID: 998, effectiveUID: 998, savedUID: 0, effectiveGID: 997) != nil)
        #expect(plan.problem(realUID: 0, effectiveUID: 998, savedUID: 998, effectiveGID: 997) != nil)
        #expect(plan.problem(realUID: 998, effectiveUID: 0, savedUID: 998, effectiveGID: 997) != nil)
        #expect(plan.problem(realUID: 998, effectiveUID: 998, savedUID: 998, effectiveGID: 0) != nil)
    }

    @Test("Getting root back must fail afterwards, unless the account is root itself")
    func regainingRoot() {
        #expect(plan.mustNotRegainRoot)
        let root = PrivilegePlan(account: .init(name: "root", uid: 0, gid: 0), stateDirectory: "/var/lib/proxyarpd")
        #expect(!root.mustNotRegainRoot)
    }

    @Test("The state directory is made from the root down and handed over with mode 0750", arguments: [
        ("/var/lib/proxyarpd", ["/var", "/var/lib", "/var/lib/proxyarpd"]),
        ("/var/lib/proxyarpd/", ["/var", "/var/lib", "/var/lib/proxyarpd"]),
        ("/srv//state", ["/srv", "/srv/state"]),
    ])
    func stateDirectory(path: String, directories: [String]) {
        let plan = PrivilegePlan(account: plan.account, stateDirectory: path)
        #expect(plan.directoriesToCreate == directories)
        #expect(plan.stateDirectoryMode == 0o750)
    }
}
