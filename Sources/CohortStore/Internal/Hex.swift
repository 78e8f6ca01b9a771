/// Lowercase hexadecimal encoding and SHA-256 digest checks.
enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// The 64 zeros that stand for "no previous entry".
    static let zeroHash = String(repeating: "0", count: 64)

    /// Lowercase hex of `bytes`.
    static func string(_ bytes: some Sequence<UInt8>) -> String {
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in bytes {
            out.append(Self.digits[Int(b >> 4)])
            out.append(Self.digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `text` is exactly 64 lowercase hex digits (a SHA-256 digest as this module writes it).
    static func isSHA256(_ text: String) -> Bool {
        let utf8 = text.utf8
        return utf8.count == 64 && utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
