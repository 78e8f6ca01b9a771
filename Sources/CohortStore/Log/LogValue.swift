/// A JSON value in a log entry's payload, with one canonical text form.
///
/// The canonical form is what ``HashChainedLog`` stores and hashes: no whitespace; object keys sorted by their UTF-8
/// bytes; strings escaped minimally (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other control characters as `\u00XX`,
/// everything else as raw UTF-8); integers in decimal; doubles in Swift's shortest round-tripping form (`0.1`,
/// `3.0`, `1e-05`). Non-finite doubles have no JSON form and are rejected.
///
/// ```swift
/// let payload: [String: LogValue] = ["job": "j-1", "round": 3, "loss": 0.25, "sites": ["a", "b"]]
/// ```
public enum LogValue: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([LogValue])
    case object([String: LogValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int64.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) {
            self = .double(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([LogValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: LogValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// The canonical JSON text of an object (a log payload).
    ///
    /// - Throws: ``StoreError/Code/invalidArgument`` if the object contains a NaN or infinite double.
    public static func canonicalJSON(_ object: [String: LogValue]) throws -> String {
        var out = [UInt8]()
        try LogValue.object(object).write(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The canonical JSON text of this value.
    public func canonicalJSON() throws -> String {
        var out = [UInt8]()
        try self.write(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private func write(into out: inout [UInt8]) throws {
        switch self {
        case .null:
            out += "null".utf8
        case .bool(let b):
            out += (b ? "true" : "false").utf8
        case .int(let i):
            out += String(i).utf8
        case .double(let d):
            guard d.isFinite else {
                throw StoreError(.invalidArgument, "log payloads cannot hold \(d); record it as a string or omit it")
            }
            out += d.description.utf8
        case .string(let s):
            Self.writeString(s, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (k, v) in a.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                try v.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            let keys = o.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (k, key) in keys.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                try o[key]!.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func writeString(_ s: String, into out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += #"\""#.utf8
            case UInt8(ascii: "\\"): out += #"\\"#.utf8
            case 0x08: out += #"\b"#.utf8
            case 0x0c: out += #"\f"#.utf8
            case 0x0a: out += #"\n"#.utf8
            case 0x0d: out += #"\r"#.utf8
            case 0x09: out += #"\t"#.utf8
            case 0..<0x20: out += #"\u00"#.utf8 + [hex[Int(byte >> 4)], hex[Int(byte & 0x0f)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

extension LogValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: LogValue...) { self = .array(elements) }

    public init(dictionaryLiteral elements: (String, LogValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}
