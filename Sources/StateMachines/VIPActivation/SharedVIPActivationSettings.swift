import ProxyARPCore

/// ``VIPActivationSettings`` held by reference, so that the machines of many VIPs started
/// with the same timers share one copy: 65 bytes a machine otherwise, 6.5 MB for 100,000
/// VIPs. Immutable; equal when the settings are equal.
public final class SharedVIPActivationSettings: Sendable, Equatable {
    /// The settings.
    public let value: VIPActivationSettings

    /// Wraps `value`.
    public init(_ value: VIPActivationSettings) {
        self.value = value
    }

    public static func == (lhs: SharedVIPActivationSettings, rhs: SharedVIPActivationSettings) -> Bool {
        lhs === rhs || lhs.value == rhs.value
    }
}
