import Foundation
import PackagePlugin

/// Compiles the XDP program (Sources/XDP/proxyarp.bpf.c) with the toolchain's clang
/// (`-target bpf -O2 -g`: BTF for libbpf's map definitions) and embeds the object in the
/// target as generated Swift (`XDPObjectBytes.swift`), so `swift build` alone produces it.
@main
struct XDPObjectPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
        let source = context.package.directoryURL.appending(path: "Sources/XDP/proxyarp.bpf.c")
        let object = context.pluginWorkDirectoryURL.appending(path: "proxyarp.bpf.o")
        let generated = context.pluginWorkDirectoryURL.appending(path: "XDPObjectBytes.swift")
        let clang = try context.tool(named: "clang").url
        let embed = try context.tool(named: "xdp-embed").url
        var arguments = ["-target", "bpf", "-O2", "-g", "-Wall", "-Werror"]
        // <linux/bpf.h> includes <asm/types.h>, which Debian keeps under the host's multiarch
        // directory: the BPF target does not search it by itself.
        for triple in ["x86_64-linux-gnu", "aarch64-linux-gnu"] {
            let directory = "/usr/include/\(triple)"
            if FileManager.default.fileExists(atPath: directory) { arguments += ["-idirafter", directory] }
        }
        arguments += ["-c", source.path(percentEncoded: false)]  // xdp-embed adds -o (and a second, device-bound build)
        // One command: xdp-embed runs clang, then writes the Swift file (the only declared
        // output; a declared .o would be copied into a resource bundle).
        return [
            .buildCommand(
                displayName: "Compiling and embedding XDP program proxyarp.bpf.c",
                executable: embed,
                arguments: [generated.path(percentEncoded: false), object.path(percentEncoded: false), clang.path(percentEncoded: false)]
                    + arguments,
                inputFiles: [source],
                outputFiles: [generated]
            )
        ]
    }
}
