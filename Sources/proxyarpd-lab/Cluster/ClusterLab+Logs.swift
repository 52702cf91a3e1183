import Foundation
import ProxyARPTestSupport

extension ClusterLab {
    /// Copies the three daemons' logs (`h0.log` to `h2.log`) into `folder`, replacing older
    /// copies, before the lab is removed (`cluster-bench --keep-logs`).
    func copyDaemonLogs(to folder: String) {
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for index in 0..<3 {
            try? FileManager.default.removeItem(atPath: "\(folder)/h\(index).log")
            try? FileManager.default.copyItem(atPath: "\(directory)/h\(index).log", toPath: "\(folder)/h\(index).log")
        }
    }
}
