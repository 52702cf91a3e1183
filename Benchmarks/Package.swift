// swift-tools-version: 6.1
// The benchmarks are a separate package so that the main package's build (and CI's)
// does not compile ordo-one/benchmark. Run from this directory:
//
//     swift package benchmark
//     scripts/check-thresholds.sh     # stored malloc counts and instructions per frame
//
import PackageDescription

// A path dependency's identity is its directory's name (the clone's name: `main`,
// `wt-bench`, CI's checkout...), so read it instead of hard-coding it.
let rootPackage = Context.packageDirectory.split(separator: "/").dropLast().last.map(String.init) ?? "proxyarpd"

let benchmarkDependencies: [Target.Dependency] = [
    .product(name: "Benchmark", package: "benchmark"),
    .product(name: "ProxyARPCore", package: rootPackage),
    .product(name: "ProxyARPStateMachines", package: rootPackage),
    "BenchmarkFixtures",
]

let package = Package(
    name: "proxyarpd-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .target(
            name: "BenchmarkFixtures",
            dependencies: [.product(name: "ProxyARPCore", package: rootPackage)],
            path: "Sources/BenchmarkFixtures"
        ),
        .target(
            name: "BatchConfiguration",
            dependencies: [.product(name: "Benchmark", package: "benchmark")],
            path: "Sources/BatchConfiguration"
        ),
        // Runs answerBatch under valgrind (instruction counts where perf counters are missing).
        .executableTarget(name: "FastPathCount", dependencies: ["BenchmarkFixtures", .product(name: "ProxyARPCore", package: rootPackage)], path: "Sources/FastPathCount"),
    ] + ["FastPath", "StateMachines", "AnswerTable", "ActorHop"].map { suite in
        .executableTarget(
            name: suite,
            dependencies: benchmarkDependencies + (["FastPath", "AnswerTable"].contains(suite) ? ["BatchConfiguration"] : []),
            path: "Benchmarks/\(suite)",
            swiftSettings: [.unsafeFlags(["-cross-module-optimization"])],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    }
)
