/// The rule for participant names, which become certificate CNs and kit directory names.
public enum ParticipantName {
    /// The longest allowed name.
    public static let maxLength = 64

    /// What a valid name looks like, for error hints.
    public static let rule = "letters, digits, '.', '_', '-'; starts with a letter or digit; at most 64 characters"

    /// Whether `name` matches `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`.
    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= Self.maxLength, Self.isAlphanumeric(first) else { return false }
        return bytes.allSatisfy { Self.isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_")
            || $0 == UInt8(ascii: "-") }
    }

    private static func isAlphanumeric(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
    }
}
