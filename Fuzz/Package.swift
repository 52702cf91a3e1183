// swift-tools-version: 6.1
// libFuzzer targets over proxyarpd's parsers: a separate package, so that the main
// package's build (and CI's) never compiles them. Build and run from the repository root:
//
//     Fuzz/run.sh --smoke        # every target for a few seconds (scripts/test.sh runs this)
//     Fuzz/run.sh --minutes 10   # a long run of each target
//
// Each executable is built with `-sanitize=fuzzer,address` (see run.sh) and is a plain
// libFuzzer binary: `fuzz-frames CORPUS_DIR -max_total_time=60`, or `fuzz-frames FILE` to
// replay one input.
import PackageDescription

// A path dependency's identity is its directory's name (the clone's name: `main`,
// `wt-fuzz`, CI's checkout...), so read it instead of hard-coding it.
let rootPackage = Context.packageDirectory.split(separator: "/").dropLast().last.map(String.init) ?? "proxyarpd"

/// One fuzz target: an executable whose entry point hands `LLVMFuzzerTestOneInput` to libFuzzer.
func fuzzTarget(_ name: String, _ path: String, _ products: [String]) -> Target {
    .executableTarget(
        name: name,
        dependencies: ["LibFuzzerDriver"] + products.map { .product(name: $0, package: rootPackage) },
        path: "Sources/\(path)"
    )
}

let package = Package(
    name: "proxyarpd-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "..")
    ],
    targets: [
        .target(name: "LibFuzzerDriver", path: "Sources/LibFuzzerDriver"),
        fuzzTarget("fuzz-frames", "FuzzFrames", ["ProxyARPCore"]),
        fuzzTarget("fuzz-config", "FuzzConfig", ["ProxyARPCore", "ProxyARPConfig"]),
        fuzzTarget("fuzz-control", "FuzzControl", ["ProxyARPCore", "ProxyARPStateMachines", "ProxyARPActors", "ProxyARPControl"]),
        fuzzTarget("fuzz-trace", "FuzzTrace", ["ProxyARPActors", "ProxyARPStateMachines"]),
    ]
)
