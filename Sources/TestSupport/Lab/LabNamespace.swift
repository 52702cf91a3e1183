/// A lab of one namespace, for tests of code that enters a namespace by its path
/// (rtnetlink, sysctls): the test process itself never leaves the root namespace.
/// Made by ``make(_:)``, deleted by ``destroy()`` (call it in a `defer`).
public struct LabNamespace: Sendable {
    /// The lab that owns the namespace.
    public let lab: NetnsLab
    /// The namespace's name.
    public let name: String
    /// Its path, for `NetworkNamespace`-style entry.
    public var path: String { NetnsLab.path(of: name) }

    /// Creates namespace `<tag><pid>x<n>-ns` with `lo` up.
    public static func make(_ tag: String = "nlk") async throws -> LabNamespace {
        let lab = NetnsLab(prefix: NetnsLab.uniquePrefix(tag))
        do {
            return LabNamespace(lab: lab, name: try await lab.addNamespace("ns"))
        } catch {
            lab.destroy()
            throw error
        }
    }

    /// Deletes the namespace (and with it every link, address, rule and route in it).
    public func destroy() { lab.destroy() }

    /// `ip -n NAME args...`; returns standard output, throws on a non-zero exit.
    @discardableResult
    public func ip(_ arguments: String...) async throws -> String {
        try await lab.ip(name, arguments).output
    }

    /// `COMMAND ARGS...` inside the namespace; returns standard output, throws on a non-zero exit.
    @discardableResult
    public func exec(_ command: String, _ arguments: [String]) async throws -> String {
        try await lab.exec(name, command, arguments).output
    }

    /// `cat FILE` inside the namespace, trimmed.
    public func read(_ file: String) async throws -> String {
        try await lab.read(name, file)
    }

    /// A veth pair `adapter`/`peer` in the namespace, both up; `address` (`A.B.C.D/len`),
    /// when given, on `adapter`.
    public func addVeth(_ adapter: String, peer: String, address: String? = nil) async throws {
        try await lab.addVeth(in: name, adapter, peer: peer, address: address)
    }
}
