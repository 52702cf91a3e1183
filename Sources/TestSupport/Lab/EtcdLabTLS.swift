import Foundation

/// The certificates of an ``EtcdLab`` that serves clients over TLS, made with `openssl` in a
/// folder of the lab: a CA, a server certificate for the members' addresses (usable as a
/// client certificate too: etcd's JSON gateway dials its own gRPC port with it when
/// `--client-cert-auth` is on) and a client certificate. P-256 keys, valid two days.
public struct EtcdLabTLS: Sendable {
    /// The CA certificate (PEM).
    public var ca: String
    /// The members' certificate and key.
    public var serverCertificate: String
    /// The members' key.
    public var serverKey: String
    /// The client certificate the daemon presents.
    public var clientCertificate: String
    /// The client's key.
    public var clientKey: String

    /// Makes the CA, server and client certificates in `directory` for `addresses` (IPv4).
    public static func generate(in directory: String, addresses: [String]) async throws -> EtcdLabTLS {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let tls = EtcdLabTLS(
            ca: "\(directory)/ca.pem", serverCertificate: "\(directory)/server.pem", serverKey: "\(directory)/server-key.pem",
            clientCertificate: "\(directory)/client.pem", clientKey: "\(directory)/client-key.pem")
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try await Command.run(
            "openssl", ["req", "-x509"] + key + ["-keyout", "\(directory)/ca-key.pem", "-out", tls.ca, "-days", "2", "-subj", "/CN=proxyarpd-lab-ca"])
        let san = addresses.map { "IP:\($0)" }.joined(separator: ",")
        let leaves = [
            (tls.serverCertificate, tls.serverKey, "etcd", "subjectAltName=\(san)\nextendedKeyUsage=serverAuth,clientAuth\n"),
            (tls.clientCertificate, tls.clientKey, "proxyarpd", "extendedKeyUsage=clientAuth\n"),
        ]
        for (certificate, privateKey, name, extensions) in leaves {
            let request = "\(directory)/\(name).csr"
            let extensionFile = "\(directory)/\(name).ext"
            try extensions.write(toFile: extensionFile, atomically: true, encoding: .utf8)
            try await Command.run("openssl", ["req"] + key + ["-keyout", privateKey, "-out", request, "-subj", "/CN=\(name)"])
            try await Command.run(
                "openssl",
                ["x509", "-req", "-in", request, "-CA", tls.ca, "-CAkey", "\(directory)/ca-key.pem", "-CAcreateserial",
                 "-out", certificate, "-days", "2", "-extfile", extensionFile])
        }
        return tls
    }
}
