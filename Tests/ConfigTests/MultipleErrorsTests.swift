import ProxyARPConfig
import Testing

@Suite struct MultipleErrorsTests {
    /// Errors from every section, reported together, in line order, each with its own line.
    @Test func everyErrorIsReportedWithItsLine() {
        let errors = loadErrors("""
            adapters:
              - name: eth0
                address: 198.18.0.10/24
              - name: eth0
            vips:
              - address: 198.18.0.300
              - range: 198.18.0.120-198.18.0.140
                preferred: [eth9]
              - cidr: 198.18.0.128/28
              - address: 198.18.0.10
            timers:
              announce_count: 30
              hold_down: 1h
              colour: blue
            metrics:
              listen: 192.0.2.1:9469
            daemon:
              trace_capacity: 1
            """)
        let found = errors.map { Found(line: $0.line, path: $0.path) }
        #expect(found == [
            Found(line: 4, path: "adapters[1].name"),
            Found(line: 6, path: "vips[0].address"),
            Found(line: 8, path: "vips[1].preferred[0]"),
            Found(line: 9, path: "vips[2].cidr"),
            Found(line: 10, path: "vips[3].address"),
            Found(line: 12, path: "timers.announce_count"),
            Found(line: 13, path: "timers.hold_down"),
            Found(line: 14, path: "timers.colour"),
            Found(line: 16, path: "metrics.listen"),
            Found(line: 18, path: "daemon.trace_capacity"),
        ])
        // The overlap names both lines: the error is on line 9 and cites line 7.
        #expect(errors.first { $0.line == 9 }?.reason.contains("line 7") == true)
        #expect(errors.first { $0.line == 4 }?.reason.contains("first at line 2") == true)
    }

    @Test func descriptionPrintsOneErrorPerLine() {
        do {
            _ = try ConfigurationLoader.load(yaml: """
                adapters:
                  - name: eth0
                vips:
                  - address: 198.18.0.1
                    preempt: perhaps
                  - cidr: 198.18.4.0/40
                """, fileName: "proxyarpd.yaml")
            Issue.record("loaded a broken file")
        } catch {
            #expect(error.description.split(separator: "\n") == [
                #"proxyarpd.yaml:5: vips[0].preempt: expected true or false, got "perhaps""#,
                #"proxyarpd.yaml:6: vips[1].cidr: "198.18.4.0/40" is not an IPv4 CIDR block ADDRESS/PREFIX with prefix 0...32"#,
            ])
        }
    }
}

private struct Found: Equatable, CustomStringConvertible {
    let line: Int
    let path: String
    var description: String { "\(line):\(path)" }
}
