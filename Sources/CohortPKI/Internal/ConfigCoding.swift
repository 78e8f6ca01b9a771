import Foundation
import Yams

/// A coding key for any string or integer, used to list the keys a YAML mapping actually has.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

extension Decoder {
    /// Throws a `dataCorrupted` error naming the first key not among `known`.
    ///
    /// Configuration files reject unknown keys so that a misspelt key (`max_epsilom: 1.0`) never silently turns a
    /// privacy limit off.
    func rejectUnknownKeys<Key: CodingKey & CaseIterable>(_ known: Key.Type) throws {
        let container = try self.container(keyedBy: AnyCodingKey.self)
        let allowed = Key.allCases.map(\.stringValue)
        for key in container.allKeys where !allowed.contains(key.stringValue) {
            throw DecodingError.dataCorrupted(.init(
                codingPath: self.codingPath + [key],
                debugDescription: "unknown key (expected one of: \(allowed.joined(separator: ", ")))"))
        }
    }

    /// Decodes a string-backed enum, naming the allowed values when the value is not one of them.
    func decodeStringEnum<E: RawRepresentable & CaseIterable>(_ type: E.Type) throws -> E where E.RawValue == String {
        let container = try self.singleValueContainer()
        let raw = try container.decode(String.self)
        guard let value = E(rawValue: raw) else {
            let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
            throw DecodingError.dataCorrupted(.init(
                codingPath: self.codingPath, debugDescription: "'\(raw)' is not one of: \(allowed)"))
        }
        return value
    }
}

/// Decoding of YAML configuration files into values, with errors that name the file and the key.
enum ConfigCoding {
    /// Decodes `T` from YAML text; `source` names the file in errors.
    static func decode<T: Decodable>(_ type: T.Type, yaml: String, source: String, code: PKIError.Code)
        throws(PKIError) -> T
    {
        do {
            return try YAMLDecoder().decode(T.self, from: yaml)
        } catch let error as DecodingError {
            let (key, message) = Self.describe(error)
            throw PKIError(code, file: source, key: key, message)
        } catch {
            throw PKIError(code, file: source, "not valid YAML: \(error)")
        }
    }

    /// Reads a text file, turning failures into ``PKIError/Code-swift.struct/io``.
    static func read(_ url: URL, what: String) throws(PKIError) -> String {
        do {
            return try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw PKIError(.io, file: url.path, "cannot read the \(what): \(error.localizedDescription)")
        }
    }

    /// Renders a coding path as `sites[2].name`.
    static func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.map { key in
            // Yams gives sequence elements an integer key; everything else is a mapping key.
            if let i = key.intValue, key.stringValue == String(i) || key.stringValue.hasPrefix("Index") { return "[\(i)]" }
            return "." + key.stringValue
        }.joined().trimmingCharacters(in: ["."])
    }

    /// Turns a `DecodingError` into the key path it happened at and a message for people.
    static func describe(_ error: DecodingError) -> (key: String?, message: String) {
        func orNil(_ s: String) -> String? { s.isEmpty ? nil : s }
        switch error {
        case .keyNotFound(let key, let context):
            return (orNil(Self.path(context.codingPath)), "missing required key '\(key.stringValue)'")
        case .typeMismatch(let type, let context):
            return (orNil(Self.path(context.codingPath)), "expected \(Self.noun(for: type))")
        case .valueNotFound(let type, let context):
            return (orNil(Self.path(context.codingPath)), "expected \(Self.noun(for: type)), found nothing")
        case .dataCorrupted(let context):
            return (orNil(Self.path(context.codingPath)), context.debugDescription)
        @unknown default:
            return (nil, "\(error)")
        }
    }

    /// "an integer", "a string", ... for a decoded type.
    static func noun(for type: Any.Type) -> String {
        switch type {
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt16.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        case is Bool.Type: return "true or false"
        case is String.Type: return "a string"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Array") || name.hasPrefix("[") || name.contains("Sequence") { return "a list" }
            if name.contains("Mapping") || name.contains("Dictionary") { return "a mapping (key: value)" }
            return "a value of type \(name)"
        }
    }
}
