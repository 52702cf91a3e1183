import ProxyARPConfig
import Testing

/// One broken file, the line its error must be reported on, and a phrase of the reason.
struct BrokenCase: Sendable, CustomTestStringConvertible {
    let name: String
    let yaml: String
    let line: Int
    let phrase: String

    var testDescription: String { name }
}

/// Lines 1-5 of every case: a valid start that the case extends or breaks.
private let head = """
    adapters:
      - name: eth0
        address: 198.18.0.10/24
      - name: eth1
    vips:
    """

/// `head` plus one VIP on line 6, then `tail` from line 7 on.
private func withVIP(_ tail: String) -> String {
    head + "\n  - address: 198.18.0.100\n" + tail
}

let brokenCases: [BrokenCase] = [
    // YAML itself
    BrokenCase(name: "syntax error", yaml: "adapters:\n  - name: [eth0\nvips: []\n", line: 3, phrase: "YAML syntax error"),
    BrokenCase(name: "duplicate key", yaml: withVIP("vips: []"), line: 7, phrase: "duplicate key \"vips\" (first at line 5)"),
    BrokenCase(name: "duplicate nested key", yaml: withVIP("    preempt: true\n    preferred: [eth0]\n    preempt: false"), line: 9, phrase: "duplicate key \"preempt\" (first at line 7)"),
    BrokenCase(name: "duplicate key in flow mapping", yaml: withVIP("timers: {hold_down: 1s, hold_down: 2s}"), line: 7, phrase: "duplicate key \"hold_down\""),
    BrokenCase(name: "empty file", yaml: "# nothing\n", line: 1, phrase: "the file is empty"),
    BrokenCase(name: "root is a list", yaml: "- adapters\n", line: 1, phrase: "expected a mapping"),
    // Structure and keys
    BrokenCase(name: "unknown top-level key", yaml: withVIP("vip_list: []"), line: 7, phrase: "unknown key \"vip_list\"; allowed keys: adapters, vips"),
    BrokenCase(name: "unknown adapter key", yaml: withVIP("").replacingOccurrences(of: "  - name: eth1", with: "  - name: eth1\n    mac: 02:00:00:00:00:01"), line: 5, phrase: "unknown key \"mac\"; allowed keys: name, address"),
    BrokenCase(name: "unknown VIP key", yaml: withVIP("    prefered: [eth0]"), line: 7, phrase: "unknown key \"prefered\""),
    BrokenCase(name: "unknown timers key", yaml: withVIP("timers:\n  announce: 3"), line: 8, phrase: "unknown key \"announce\"; allowed keys: announce_count"),
    BrokenCase(name: "missing vips", yaml: "adapters:\n  - name: eth0\n", line: 1, phrase: "missing required key \"vips\""),
    BrokenCase(name: "missing adapter name", yaml: "adapters:\n  - address: 198.18.0.10/24\nvips:\n  - address: 198.18.0.100\n", line: 2, phrase: "missing required key \"name\""),
    BrokenCase(name: "adapters is not a list", yaml: "adapters: eth0\nvips:\n  - address: 198.18.0.100\n", line: 1, phrase: "expected a non-empty list of adapters"),
    BrokenCase(name: "no adapters", yaml: "adapters: []\nvips:\n  - address: 198.18.0.100\n", line: 1, phrase: "at least one adapter"),
    BrokenCase(name: "no VIPs", yaml: head + " []\n", line: 5, phrase: "at least one VIP"),
    // Adapters
    BrokenCase(name: "adapter name too long", yaml: "adapters:\n  - name: enp0s31f6-uplink0\nvips:\n  - address: 198.18.0.100\n", line: 2, phrase: "at most 15"),
    BrokenCase(name: "adapter name with slash", yaml: "adapters:\n  - name: eth0/1\nvips:\n  - address: 198.18.0.100\n", line: 2, phrase: "contains \"/\""),
    BrokenCase(name: "adapter name with space", yaml: "adapters:\n  - name: \"eth 0\"\nvips:\n  - address: 198.18.0.100\n", line: 2, phrase: "contains whitespace"),
    BrokenCase(name: "duplicate adapter", yaml: "adapters:\n  - name: eth0\n  - name: eth0\nvips:\n  - address: 198.18.0.100\n", line: 3, phrase: "duplicate adapter name \"eth0\" (first at line 2)"),
    BrokenCase(name: "adapter address without prefix", yaml: "adapters:\n  - name: eth0\n    address: 198.18.0.10\nvips:\n  - address: 198.18.0.100\n", line: 3, phrase: "not an IPv4 address with a prefix"),
    // VIP entries
    BrokenCase(name: "bad VIP address", yaml: head + "\n  - address: 198.18.0.300\n", line: 6, phrase: "\"198.18.0.300\" is not an IPv4 address"),
    BrokenCase(name: "VIP with no address", yaml: head + "\n  - preempt: true\n", line: 6, phrase: "exactly one of address, range or cidr; none given"),
    BrokenCase(name: "VIP with two kinds", yaml: head + "\n  - address: 198.18.0.100\n    cidr: 198.18.2.0/28\n", line: 6, phrase: "got address and cidr"),
    BrokenCase(name: "reversed range", yaml: head + "\n  - range: 198.18.0.140-198.18.0.120\n", line: 6, phrase: "is reversed"),
    BrokenCase(name: "malformed range", yaml: head + "\n  - range: 198.18.0.120..198.18.0.140\n", line: 6, phrase: "is not a range FIRST-LAST"),
    BrokenCase(name: "CIDR with host bits", yaml: head + "\n  - cidr: 198.18.2.5/28\n", line: 6, phrase: "host bits set; did you mean 198.18.2.0/28?"),
    BrokenCase(name: "CIDR prefix 33", yaml: head + "\n  - cidr: 198.18.2.0/33\n", line: 6, phrase: "is not an IPv4 CIDR block"),
    BrokenCase(name: "huge CIDR refused", yaml: head + "\n  - cidr: 198.18.0.0/8\n", line: 6, phrase: "16777216 addresses, more than the limit of 1000000"),
    BrokenCase(name: "total above limit", yaml: head + "\n  - range: 198.20.0.0-198.35.255.255\n", line: 6, phrase: "has 1048576 addresses, more than the limit"),
    BrokenCase(name: "loopback VIP", yaml: head + "\n  - address: 127.0.0.5\n", line: 6, phrase: "loopback 127.0.0.0/8"),
    BrokenCase(name: "duplicate VIP", yaml: withVIP("  - address: 198.18.0.100"), line: 7, phrase: "duplicate VIP 198.18.0.100, already listed at 198.18.0.100 (vips[0].address, line 6)"),
    BrokenCase(name: "range overlaps address", yaml: withVIP("  - range: 198.18.0.90-198.18.0.110"), line: 7, phrase: "overlaps 198.18.0.100 (vips[0].address, line 6): both contain 198.18.0.100"),
    BrokenCase(name: "VIP is an adapter address", yaml: head + "\n  - address: 198.18.0.10\n", line: 6, phrase: "configured address of adapter eth0 (line 3)"),
    BrokenCase(name: "block contains an adapter address", yaml: head + "\n  - cidr: 198.18.0.0/28\n", line: 6, phrase: "contains 198.18.0.10, which is the configured address of adapter eth0"),
    BrokenCase(name: "preferred is not an adapter", yaml: withVIP("    preferred: [eth1, eth7]"), line: 7, phrase: "\"eth7\" is not a configured adapter (configured: eth0, eth1)"),
    BrokenCase(name: "preferred twice", yaml: withVIP("    preferred:\n      - eth1\n      - eth1"), line: 9, phrase: "\"eth1\" is listed twice"),
    BrokenCase(name: "preferred not a list", yaml: withVIP("    preferred: {eth0: 1}"), line: 7, phrase: "expected a list of adapter names"),
    BrokenCase(name: "preempt not a bool", yaml: withVIP("    preempt: sometimes"), line: 7, phrase: "expected true or false"),
    // Timers
    BrokenCase(name: "announce_count 0", yaml: withVIP("timers:\n  announce_count: 0"), line: 8, phrase: "0 is out of range 1...20"),
    BrokenCase(name: "announce_count not a number", yaml: withVIP("timers:\n  announce_count: three"), line: 8, phrase: "expected an integer"),
    BrokenCase(name: "announce_count quoted", yaml: withVIP("timers:\n  announce_count: \"3\""), line: 8, phrase: "expected an integer"),
    BrokenCase(name: "announce_interval at locktime", yaml: withVIP("timers:\n  announce_interval: 1s"), line: 8, phrase: "must be more than 1s"),
    BrokenCase(name: "announce_interval too long", yaml: withVIP("timers:\n  announce_interval: 61s"), line: 8, phrase: "at most 60s"),
    BrokenCase(name: "confirm_timeout not below interval", yaml: withVIP("timers:\n  announce_interval: 2s\n  confirm_timeout: 2s"), line: 9, phrase: "less than announce_interval (2s)"),
    BrokenCase(name: "confirm_timeout zero", yaml: withVIP("timers:\n  confirm_timeout: 0"), line: 8, phrase: "must be more than 0"),
    BrokenCase(name: "confirm_retries 11", yaml: withVIP("timers:\n  confirm_retries: 11"), line: 8, phrase: "out of range 0...10"),
    BrokenCase(name: "refresh shorter than announcements", yaml: withVIP("timers:\n  refresh_interval: 3s"), line: 8, phrase: "at least announce_interval × announce_count (3600ms)"),
    BrokenCase(name: "hold_down above 10m", yaml: withVIP("timers:\n  hold_down: 601s"), line: 8, phrase: "at most 10m"),
    BrokenCase(name: "duration without unit", yaml: withVIP("timers:\n  preempt_delay: 5"), line: 8, phrase: "\"5\" is not a duration"),
    BrokenCase(name: "off outside refresh", yaml: withVIP("timers:\n  hold_down: off"), line: 8, phrase: "only allowed for refresh_interval"),
    // Control, metrics, daemon
    BrokenCase(name: "relative socket path", yaml: withVIP("control:\n  socket: proxyarpd.sock"), line: 8, phrase: "not an absolute path"),
    BrokenCase(name: "metrics on all interfaces", yaml: withVIP("metrics:\n  listen: 0.0.0.0:9469"), line: 8, phrase: "not a loopback address"),
    BrokenCase(name: "metrics port too big", yaml: withVIP("metrics:\n  listen: 127.0.0.1:70000"), line: 8, phrase: "not a number 0...65535"),
    BrokenCase(name: "metrics IPv6 without brackets", yaml: withVIP("metrics:\n  listen: \"::1:9469\""), line: 8, phrase: "in brackets"),
    BrokenCase(name: "trace_capacity too small", yaml: withVIP("daemon:\n  trace_capacity: 100"), line: 8, phrase: "100 is out of range 1024...10000000"),
    BrokenCase(name: "block_prefix_length too small", yaml: withVIP("selection:\n  block_prefix_length: 8"), line: 8, phrase: "8 is out of range 24...32"),
    BrokenCase(name: "selection unknown key", yaml: withVIP("selection:\n  blocks: 26"), line: 8, phrase: "blocks"),
    BrokenCase(name: "state_directory relative", yaml: withVIP("daemon:\n  state_directory: var/lib/proxyarpd"), line: 8, phrase: "not an absolute path"),
    BrokenCase(name: "remove_vips_on_exit not a bool", yaml: withVIP("daemon:\n  remove_vips_on_exit: 1"), line: 8, phrase: "expected true or false"),
    BrokenCase(name: "section is a scalar", yaml: withVIP("daemon: yes"), line: 7, phrase: "expected a mapping with keys user, state_directory"),
    // Conflicts
    BrokenCase(name: "unknown conflict policy", yaml: withVIP("conflicts:\n  policy: fight"), line: 8, phrase: "\"fight\" is not a policy: use one of defend, yield, alarm"),
    BrokenCase(name: "defend_interval too short", yaml: withVIP("conflicts:\n  defend_interval: 500ms"), line: 8, phrase: "500ms must be between 1s and 5m"),
    BrokenCase(name: "retry_after not a duration", yaml: withVIP("conflicts:\n  retry_after: soon"), line: 8, phrase: "\"soon\" is not a duration"),
    BrokenCase(name: "conflicts unknown key", yaml: withVIP("conflicts:\n  probe: true"), line: 8, phrase: "unknown key \"probe\"; allowed keys: policy, defend_interval, retry_after, probe_wait"),
    BrokenCase(name: "probe_wait too long", yaml: withVIP("conflicts:\n  probe_wait: 6s"), line: 8, phrase: "6s must be between 0 (no probe) and 5s"),
]

@Suite struct BrokenConfigurationTests {
    @Test(arguments: brokenCases)
    func reportsLineAndReason(_ broken: BrokenCase) {
        let errors = loadErrors(broken.yaml)
        #expect(errors.count == 1, "\(errors)")
        let error = errors.first
        #expect(error?.line == broken.line, "\(errors)")
        #expect(error?.reason.contains(broken.phrase) == true, "\(errors)")
        #expect(error?.description.hasPrefix("test.yaml:\(broken.line): ") == true)
    }

    @Test func printedFormIsFileLinePathReason() {
        let errors = loadErrors(head + "\n  - address: 198.18.0.300\n")
        #expect(errors.map(\.description) == [#"test.yaml:6: vips[0].address: "198.18.0.300" is not an IPv4 address"#])
        #expect(errors.first?.column == 14)
    }
}
