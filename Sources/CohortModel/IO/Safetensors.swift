public import Foundation
import CohortTensor
import Crypto

/// Reading and writing the safetensors format (https://huggingface.co/docs/safetensors): an 8-byte little-endian
/// header length, a JSON header naming each tensor's dtype, shape and byte range, then the raw little-endian data.
///
/// Files written here load with the Python `safetensors` package (`safetensors.numpy.load_file`). Only `F32` tensors
/// are read; anything else is refused with a message naming the tensor.
public enum Safetensors {
    /// The largest header accepted when reading (the format's own limit is 100 MB).
    public static let maximumHeaderBytes = 100_000_000

    /// Encodes parameters (in layout order) with string metadata.
    public static func encode(_ parameters: ModelParameters, metadata: [String: String] = [:]) -> [UInt8] {
        var header = "{"
        if !metadata.isEmpty {
            header += "\"__metadata__\":{"
            header += metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
                .joined(separator: ",")
            header += "},"
        }
        header += parameters.layout.entries.map { e in
            "\(jsonString(e.name)):{\"dtype\":\"F32\",\"shape\":[\(e.shape.map(String.init).joined(separator: ","))],"
                + "\"data_offsets\":[\(e.offset * 4),\((e.offset + e.count) * 4)]}"
        }.joined(separator: ",")
        header += "}"
        var headerBytes = Array(header.utf8)
        // Pad with spaces so the data starts 8-byte aligned, as the reference implementation does.
        while (headerBytes.count + 8) % 8 != 0 { headerBytes.append(0x20) }
        var out = [UInt8]()
        out.reserveCapacity(8 + headerBytes.count + parameters.count * 4)
        var len = UInt64(headerBytes.count).littleEndian
        withUnsafeBytes(of: &len) { out.append(contentsOf: $0) }
        out.append(contentsOf: headerBytes)
        parameters.flat.withUnsafeBytes { out.append(contentsOf: $0) }
        return out
    }

    /// A decoded file: tensors in file order, and the metadata.
    public struct Contents: Sendable {
        public var tensors: [(name: String, tensor: Tensor)]
        public var metadata: [String: String]
    }

    /// Decodes a safetensors byte buffer.
    public static func decode(_ bytes: [UInt8], source: String = "safetensors data") throws(ModelError) -> Contents {
        guard bytes.count >= 8 else { throw .format("\(source): file is \(bytes.count) bytes, too short for a safetensors header") }
        var len: UInt64 = 0
        for i in 0..<8 { len |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard len <= UInt64(maximumHeaderBytes), 8 + Int(len) <= bytes.count else {
            throw .format("\(source): header length \(len) does not fit in a \(bytes.count)-byte file")
        }
        let headerData = Data(bytes[8..<(8 + Int(len))])
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: headerData) } catch {
            throw .format("\(source): header is not valid JSON (\(error.localizedDescription))")
        }
        guard let dict = json as? [String: Any] else { throw .format("\(source): header is not a JSON object") }
        let dataStart = 8 + Int(len)
        let dataCount = bytes.count - dataStart
        var metadata = [String: String]()
        if let m = dict["__metadata__"] as? [String: Any] {
            for (k, v) in m {
                guard let s = v as? String else { throw .format("\(source): metadata value for \(k) is not a string") }
                metadata[k] = s
            }
        }
        var entries = [(name: String, begin: Int, end: Int, shape: [Int])]()
        for (name, value) in dict where name != "__metadata__" {
            guard let info = value as? [String: Any],
                  let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int],
                  let offsets = info["data_offsets"] as? [Int], offsets.count == 2
            else { throw .format("\(source): tensor \(name) has a malformed header entry") }
            guard dtype == "F32" else {
                throw .format("\(source): tensor \(name) has dtype \(dtype); only F32 is supported")
            }
            let begin = offsets[0], end = offsets[1]
            guard begin >= 0, end >= begin, end <= dataCount else {
                throw .format("\(source): tensor \(name) data range \(begin)..<\(end) lies outside the \(dataCount)-byte data section")
            }
            guard shape.allSatisfy({ $0 >= 0 }), Tensor.elementCount(of: shape) * 4 == end - begin else {
                throw .format("\(source): tensor \(name) shape \(shape) does not match its \(end - begin) bytes")
            }
            entries.append((name, begin, end, shape))
        }
        entries.sort { $0.begin < $1.begin }
        var tensors = [(name: String, tensor: Tensor)]()
        for e in entries {
            var scalars = [Float](repeating: 0, count: (e.end - e.begin) / 4)
            scalars.withUnsafeMutableBytes { dst in
                bytes.withUnsafeBytes { src in
                    dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[(dataStart + e.begin)..<(dataStart + e.end)]))
                }
            }
            tensors.append((e.name, Tensor(shape: e.shape, scalars: scalars)))
        }
        return Contents(tensors: tensors, metadata: metadata)
    }

    /// Reads parameters of a known layout; every tensor must be present with the expected shape.
    public static func parameters(from contents: Contents, layout: ParameterLayout, source: String) throws(ModelError)
        -> ModelParameters
    {
        var flat = [Float](repeating: 0, count: layout.totalCount)
        for e in layout.entries {
            guard let t = contents.tensors.first(where: { $0.name == e.name })?.tensor else {
                throw .layoutMismatch("\(source) has no tensor named \(e.name)")
            }
            guard t.shape == e.shape else {
                throw .layoutMismatch("\(source): tensor \(e.name) has shape \(t.shape), the model needs \(e.shape)")
            }
            flat.replaceSubrange(e.range, with: t.scalars)
        }
        if contents.tensors.count != layout.entries.count {
            let extra = contents.tensors.map(\.name).filter { layout.entry(named: $0) == nil }
            throw .layoutMismatch("\(source) has tensors the model does not have: \(extra.joined(separator: ", "))")
        }
        return ModelParameters(layout: layout, flat: flat)
    }

    /// Lowercase hex SHA-256 of bytes.
    public static func sha256Hex(_ bytes: some DataProtocol) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}
