// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "proxyarpd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "proxyarpd", targets: ["proxyarpd"]),
        // Demo, bench, flood, inject and the memory probe: never installed with the daemon.
        .executable(name: "proxyarpd-lab", targets: ["proxyarpd-lab"]),
        // For the separate Benchmarks/ package (ordo-one/benchmark), which depends on this one by path.
        .library(name: "ProxyARPCore", targets: ["ProxyARPCore"]),
        .library(name: "ProxyARPStateMachines", targets: ["ProxyARPStateMachines"]),
        // For the separate Fuzz/ package (libFuzzer targets over the loaders and decoders).
        .library(name: "ProxyARPConfig", targets: ["ProxyARPConfig"]),
        .library(name: "ProxyARPActors", targets: ["ProxyARPActors"]),
        .library(name: "ProxyARPControl", targets: ["ProxyARPControl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // MAC, IPv4, subnets, the ARP/Ethernet codec, answer rules, answer table,
        // trace records and the protocols the actors talk through. Standard library only.
        .target(name: "ProxyARPCore", path: "Sources/Core"),
        // Pure state machines: VIP activation, adapter health, agent selection.
        .target(
            name: "ProxyARPStateMachines",
            dependencies: ["ProxyARPCore"],
            path: "Sources/StateMachines"
        ),
        // Actors that run the machines' actions against the Core protocols.
        .target(
            name: "ProxyARPActors",
            dependencies: [
                "ProxyARPCore",
                "ProxyARPStateMachines",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Sources/Actors"
        ),
        // The etcd v3 JSON gateway behind Core's `OwnershipStore` port (cluster mode).
        .target(
            name: "ProxyARPEtcd",
            dependencies: [
                "ProxyARPCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Etcd"
        ),
        // The YAML configuration file, with line-accurate errors.
        .target(
            name: "ProxyARPConfig",
            dependencies: [
                "ProxyARPCore",
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Sources/Config"
        ),
        .systemLibrary(
            name: "CPcap",
            path: "Sources/CPcap",
            pkgConfig: "libpcap",
            providers: [.apt(["libpcap-dev"])]
        ),
        // libcap, for keeping CAP_NET_RAW and CAP_NET_ADMIN across the switch to `daemon.user`.
        .systemLibrary(
            name: "CCap",
            path: "Sources/CCap",
            pkgConfig: "libcap",
            providers: [.apt(["libcap-dev"])]
        ),
        // libbpf, for the XDP fast path (ProxyARPXDP): load the embedded object, link it to adapters, maps.
        .systemLibrary(
            name: "CBPF",
            path: "Sources/CBPF",
            pkgConfig: "libbpf",
            providers: [.apt(["libbpf-dev"])]
        ),
        // Build tool: writes the compiled XDP object as Swift source (used by XDPObjectPlugin).
        .executableTarget(name: "xdp-embed", path: "Sources/XDPEmbed"),
        // Compiles Sources/XDP/proxyarp.bpf.c with the toolchain's clang (-target bpf) and embeds it.
        .plugin(
            name: "XDPObjectPlugin",
            capability: .buildTool(),
            dependencies: ["xdp-embed"],
            path: "Plugins/XDPObjectPlugin"
        ),
        // rtnetlink kernel headers and inline versions of their macros (header only).
        .systemLibrary(name: "CLinuxNet", path: "Sources/CLinuxNet"),
        // The bench runner's traffic generator: AF_PACKET + sendmmsg/recvmmsg (header only, lab only).
        .systemLibrary(name: "CPacketFlood", path: "Sources/CPacketFlood"),
        // The one place for threads, wake signals and the monotonic clock: every thread of the
        // daemon starts, waits and tells time through it (IO's captures and netlink, the
        // control server, the leader thread).
        .target(
            name: "ProxyARPPlatform",
            dependencies: ["ProxyARPCore", "CLinuxNet"],
            path: "Sources/Platform"
        ),
        // Pcap/ (batched capture + inject, with the XDP fast path below it), Netlink/ (link
        // monitor, host networking); re-exports ProxyARPPlatform. StateMachines for the pure `BlockBindings` machine that Netlink/ applies.
        .target(
            name: "ProxyARPIO",
            dependencies: [
                "ProxyARPCore",
                "ProxyARPStateMachines",
                "ProxyARPPlatform",
                "CPcap",
                "CLinuxNet",
                "ProxyARPXDP",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/IO"
        ),
        // The XDP fast path: the program (proxyarp.bpf.c, compiled and embedded by the
        // XDPObjectPlugin) and its libbpf loader. Its own module because libbpf's <linux/bpf.h>
        // and libpcap's <pcap/bpf.h> both define `struct bpf_insn`; CBPF is imported internally.
        .target(
            name: "ProxyARPXDP",
            dependencies: [
                "ProxyARPCore",
                "CBPF",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/XDP",
            exclude: ["proxyarp.bpf.c"],
            plugins: ["XDPObjectPlugin"]
        ),
        // Fakes (manual clock, in-memory wire, scripted links, recording host) and the one
        // namespace lab: for the tests and proxyarpd-lab only.
        .target(
            name: "ProxyARPTestSupport",
            dependencies: [
                "ProxyARPCore",
                "ProxyARPActors",
                // Threads and setns for the lab's TCP peers (TCPEchoServer, TCPStreamClient).
                "ProxyARPPlatform",
                "CLinuxNet",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            path: "Sources/TestSupport"
        ),
        // The control socket (status, trace, reload), its client and the SVG timeline.
        // IO for the one thread and wake mechanism (IO/Threads).
        .target(
            name: "ProxyARPControl",
            dependencies: [
                "ProxyARPCore",
                "ProxyARPStateMachines",
                "ProxyARPActors",
                "ProxyARPPlatform",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Control"
        ),
        // The wiring of a running daemon: live world, privilege drop, metrics, systemd, signals.
        .target(
            name: "ProxyARPDaemon",
            dependencies: [
                "ProxyARPCore",
                "ProxyARPStateMachines",
                "ProxyARPActors",
                "ProxyARPConfig",
                "ProxyARPIO",
                "ProxyARPControl",
                "ProxyARPEtcd",
                "CCap",
                "CMalloc",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            path: "Sources/Daemon"
        ),
        // The installed daemon: run, check, status, trace, reload. No lab code.
        .executableTarget(
            name: "proxyarpd",
            dependencies: [
                "ProxyARPDaemon",
                "ProxyARPActors",
                "ProxyARPConfig",
                "ProxyARPControl",
                "ProxyARPStateMachines",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/proxyarpd"
        ),
        // The lab: demo, bench, flood, inject, memory-probe. Alone links TestSupport,
        // swift-subprocess and the packet generator.
        .executableTarget(
            name: "proxyarpd-lab",
            dependencies: [
                "ProxyARPDaemon",
                "ProxyARPCore",
                "ProxyARPStateMachines",
                "ProxyARPActors",
                "ProxyARPIO",
                "ProxyARPControl",
                "ProxyARPTestSupport",
                "CMalloc",
                "CPacketFlood",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "Sources/proxyarpd-lab"
        ),
        // glibc's malloc: the daemon's tuning and the memory probe's introspection (header only).
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        .testTarget(
            name: "CoreTests", dependencies: ["ProxyARPCore", "ProxyARPIO", "ProxyARPTestSupport"], path: "Tests/CoreTests"
        ),
        .testTarget(
            name: "StateMachinesTests",
            dependencies: ["ProxyARPCore", "ProxyARPStateMachines", "ProxyARPTestSupport"],
            path: "Tests/StateMachinesTests"
        ),
        .testTarget(
            name: "ActorsTests",
            dependencies: [
                "ProxyARPCore", "ProxyARPStateMachines", "ProxyARPActors", "ProxyARPTestSupport",
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            path: "Tests/ActorsTests"
        ),
        // The etcd adapter against a real etcd-server (root only: its own namespace).
        .testTarget(
            name: "EtcdTests",
            dependencies: [
                "ProxyARPCore", "ProxyARPEtcd", "ProxyARPTestSupport", "ProxyARPStateMachines", "ProxyARPActors", "ProxyARPPlatform",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/EtcdTests"
        ),
        .testTarget(name: "ConfigTests", dependencies: ["ProxyARPCore", "ProxyARPConfig"], path: "Tests/ConfigTests"),
        .testTarget(
            name: "ControlTests",
            dependencies: [
                "ProxyARPCore", "ProxyARPStateMachines", "ProxyARPActors", "ProxyARPControl",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/ControlTests"
        ),
        .testTarget(
            name: "IOTests",
            dependencies: ["ProxyARPCore", "ProxyARPIO", "CLinuxNet", "ProxyARPTestSupport"],
            path: "Tests/IOTests"
        ),
        .testTarget(
            name: "DaemonTests",
            dependencies: [
                "ProxyARPCore", "ProxyARPIO", "ProxyARPStateMachines", "ProxyARPActors", "ProxyARPControl", "ProxyARPDaemon", "CCap",
                "ProxyARPTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Tests/DaemonTests"
        ),
        // The real daemon in network namespaces against real peers; root only.
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["ProxyARPCore", "ProxyARPIO", "ProxyARPTestSupport", "ProxyARPStateMachines", "ProxyARPActors", "ProxyARPControl"],
            path: "Tests/EndToEndTests"
        ),
    ]
)
