import Foundation
import ProxyARPCore

/// What etcd's v3 JSON gateway (grpc-gateway, proto3 JSON) does to values, in one place:
/// keys and values are base64, 64-bit integers travel as strings, and fields holding a
/// zero value (`false`, `0`, `""`, the PUT event type) are left out of responses.
enum EtcdJSON {
    /// A JSON object as decoded by `JSONSerialization`.
    typealias Object = [String: Any]

    /// Base64 of the UTF-8 bytes of `text`.
    static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    /// Base64 of raw bytes.
    static func base64(bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    /// The text a base64 field holds; nil when it is not base64 or not UTF-8.
    static func text(base64 field: Any?) -> String? {
        guard let encoded = field as? String, let data = Data(base64Encoded: encoded) else { return nil }
        return String(data: data, encoding: .utf8)
    }

    /// A proto3 int64: a string of digits, a number, or absent (zero).
    static func int64(_ field: Any?) -> Int64? {
        switch field {
        case nil: 0
        case let text as String: Int64(text)
        case let number as NSNumber: number.int64Value
        default: nil
        }
    }

    /// The end of the range holding every key that starts with `prefix`: the prefix with
    /// its last byte below 0xff incremented (etcd's `clientv3.GetPrefixRangeEnd`).
    static func rangeEnd(ofPrefix prefix: String) -> [UInt8] {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0xff {
                bytes[bytes.count - 1] = last + 1
                return bytes
            }
            bytes.removeLast()
        }
        return [0]
    }

    /// Encodes a request body.
    static func encode(_ object: Object) throws(OwnershipStoreError) -> [UInt8] {
        do {
            return Array(try JSONSerialization.data(withJSONObject: object))
        } catch {
            throw .protocolError("cannot encode request: \(error)")
        }
    }

    /// Decodes a response body that must be a JSON object.
    static func decode(_ bytes: some Collection<UInt8>) throws(OwnershipStoreError) -> Object {
        let data = Data(bytes)
        guard let value = try? JSONSerialization.jsonObject(with: data), let object = value as? Object else {
            throw .protocolError("not a JSON object: \(String(decoding: data.prefix(200), as: UTF8.self))")
        }
        return object
    }

    /// A key-value from a range response or a watch event; nil when the key is not base64 text.
    /// A value that is not text (not written by proxyarpd) reads as "" so it is never ours.
    static func record(_ kv: Object) -> OwnershipRecord? {
        guard let key = text(base64: kv["key"]), let created = int64(kv["create_revision"]) else { return nil }
        let lease = int64(kv["lease"]).flatMap { $0 == 0 ? nil : LeaseID(rawValue: $0) }
        return OwnershipRecord(key: key, value: text(base64: kv["value"]) ?? "", token: FencingToken(rawValue: created), lease: lease)
    }

    /// The `header.revision` of a response.
    static func revision(_ object: Object) -> Int64 {
        (object["header"] as? Object).flatMap { int64($0["revision"]) } ?? 0
    }
}
