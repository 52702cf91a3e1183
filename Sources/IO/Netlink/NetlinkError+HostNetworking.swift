import Glibc
import ProxyARPCore

extension NetlinkError {
    /// This error at the host-networking boundary: the errno sorted into a
    /// ``HostNetworkingError/Code``.
    var hostNetworkingError: HostNetworkingError {
        let kind: HostNetworkingError.Code =
            switch code {
            case EPERM, EACCES: .permissionDenied
            case ENODEV: .noSuchDevice
            case EEXIST: .exists
            case ENOENT, ESRCH, EADDRNOTAVAIL: .notFound
            case EINVAL: .invalidArgument
            case ENOSPC: .noSpace
            default: .kernel(code)
            }
        return HostNetworkingError(code: kind, operation: operation, message: "\(String(cString: strerror(code))) (errno \(code))")
    }
}
