import ProxyARPCore
import ProxyARPIO

extension PcapFrameIO {
    /// The narrowed programs of adapters `a` and `b`, polled every 100 ms (the captures wait
    /// for a 200 ms quiet period after a publication) until both are narrowed, at most 5 s;
    /// nil for an adapter that kept its wide filter.
    func narrowedFilters(on a: AdapterName, _ b: AdapterName) async throws -> (CaptureFilterProgram?, CaptureFilterProgram?) {
        var narrowedA = await installedFilter(on: a)
        var narrowedB = await installedFilter(on: b)
        for _ in 0..<50 where narrowedA == nil || narrowedB == nil {
            try await Task.sleep(for: .milliseconds(100))
            narrowedA = await installedFilter(on: a)
            narrowedB = await installedFilter(on: b)
        }
        return (narrowedA, narrowedB)
    }
}
