import ProxyARPConfig
import Testing

@Suite struct DurationTextTests {
    @Test(arguments: [
        ("0", Duration.zero), ("0s", .zero), ("250ms", .milliseconds(250)), ("1200ms", .milliseconds(1200)),
        ("1.5s", .milliseconds(1500)), ("2s", .seconds(2)), ("5m", .seconds(300)), ("1h", .seconds(3600)),
        ("0.25s", .milliseconds(250)), ("750us", .microseconds(750)), ("10ns", .nanoseconds(10)),
    ])
    func parses(text: String, expected: Duration) {
        #expect(DurationText.parse(text) == expected)
    }

    @Test(arguments: ["", "5", "s", "1.s", ".5s", "1..5s", "-1s", "1 s", "1.5", "2sec", "1e3ms", "0.0000000001s", "off"])
    func refuses(text: String) {
        #expect(DurationText.parse(text) == nil)
    }

    @Test(arguments: [
        (Duration.zero, "0"), (.milliseconds(1200), "1200ms"), (.seconds(2), "2s"), (.seconds(300), "5m"),
        (.seconds(7200), "2h"), (.microseconds(1500), "1500us"),
    ])
    func formatsAndRoundTrips(duration: Duration, expected: String) {
        #expect(DurationText.format(duration) == expected)
        #expect(DurationText.parse(expected) == duration)
    }
}
