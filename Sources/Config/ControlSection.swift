import ProxyARPCore
import Yams

/// The `control:` mapping: the control socket's path and group.
enum ControlSection {
    static let keys = ["socket", "group"]

    /// `sun_path` holds 108 bytes including the terminating NUL.
    static let maximumSocketPathBytes = 107

    /// Reads the section; absent keys keep the defaults of ``ControlConfiguration``.
    static func read(_ node: Node?, _ diagnostics: inout Diagnostics) -> ControlConfiguration {
        var control = ControlConfiguration()
        guard let node,
            let reader = MappingReader(node, path: "control", allowed: keys, diagnostics: &diagnostics)
        else { return control }
        if let value = reader["socket"],
            let path = ScalarReaders.absolutePath(value, "control.socket", maxBytes: maximumSocketPathBytes, &diagnostics)
        {
            control.socketPath = path
        }
        if let value = reader["group"], !value.isNull,
            let group = ScalarReaders.nonEmptyString(value, "control.group", &diagnostics)
        {
            control.group = group
        }
        return control
    }
}
