import Foundation
import ProxyARPIO
import ProxyARPTestSupport

/// tcpdump on one device of a lab namespace (promiscuous, flushed per packet), written to
/// `directory/name.pcap`; read back with ``file()``.
struct WireCapture {
    let process: LabProcess
    let path: String

    /// Starts tcpdump on `device` in `namespace` with the capture `filter`; returns once the
    /// file exists (bounded wait) plus `settle`.
    static func start(
        namespace: String, device: String, filter: String, directory: String, name: String, settle: Duration = .zero
    ) async throws -> WireCapture {
        let path = "\(directory)/\(name).pcap"
        try? FileManager.default.removeItem(atPath: path)
        let process = try LabProcess(
            binary: "tcpdump", namespace: namespace,
            arguments: ["-i", device, "--immediate-mode", "-U", "-n", "-w", path, filter],
            logPath: "\(directory)/\(name).log"
        )
        // tcpdump needs a moment to open the capture (bounded).
        for _ in 0..<50 {
            try await Task.sleep(for: .milliseconds(50))
            if FileManager.default.fileExists(atPath: path) { break }
        }
        try await Task.sleep(for: settle)
        return WireCapture(process: process, path: path)
    }

    /// The frames captured so far.
    func file() throws -> CaptureFile { try CaptureFile(path: path) }

    /// Stops tcpdump (after a moment for the last frames) and reads the file.
    func stop() async throws -> CaptureFile {
        try await Task.sleep(for: .milliseconds(200))
        if process.isRunning { await process.stop() }
        return try file()
    }
}
