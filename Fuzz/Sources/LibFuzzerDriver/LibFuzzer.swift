#if canImport(Glibc)
import Glibc
#endif

/// The body libFuzzer calls once per input: `LLVMFuzzerTestOneInput`'s signature.
public typealias FuzzTestOneInput = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: FuzzTestOneInput
) -> CInt

/// Starts libFuzzer (`libclang_rt.fuzzer`, linked by `-sanitize=fuzzer`) from a Swift
/// entry point.
///
/// SwiftPM renames an executable's `main` (`--defsym main=<module>_main`), which leaves
/// libFuzzer's own `main` unused; so each target's `@main` hands its
/// `LLVMFuzzerTestOneInput` to libFuzzer's documented driver entry instead, with the
/// process's arguments (corpus directories, `-max_total_time=`, `-dict=`, ...).
public enum LibFuzzer {
    /// Runs libFuzzer over `body` with the command-line arguments, and exits with its status.
    public static func run(_ body: FuzzTestOneInput) -> Never {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, body))
    }
}
