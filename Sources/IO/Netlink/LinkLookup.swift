import CLinuxNet
import Glibc

extension NetlinkSocket {
    /// One link by name, from the kernel (not `if_nametoindex`, which would ask the
    /// caller's namespace rather than the socket's).
    mutating func link(named name: String) throws(NetlinkError) -> LinkRecord {
        var replies: [NetlinkMessage] = []
        try execute(RouteRequests.getLink(named: name), replies: &replies)
        guard let link = replies.lazy.compactMap(LinkRecord.init).first else {
            throw NetlinkError(operation: "RTM_GETLINK \(name)", code: ENODEV)
        }
        return link
    }
}
