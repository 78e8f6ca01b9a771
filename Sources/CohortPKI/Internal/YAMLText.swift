/// A small writer for commented YAML configuration files.
///
/// Kits are read and edited by people, so configs are written with a comment per key instead of through
/// `YAMLEncoder`. Every string is double-quoted (JSON escaping is valid YAML), so names like `001` or `true` stay strings.
struct YAMLText {
    private(set) var lines: [String] = []

    /// The document text.
    var text: String { self.lines.joined(separator: "\n") + "\n" }

    /// A `# comment` line at an indentation level.
    mutating func comment(_ text: String, indent: Int = 0) {
        self.lines.append(String(repeating: "  ", count: indent) + "# " + text)
    }

    /// An empty line.
    mutating func blank() { self.lines.append("") }

    /// `key:` opening a nested mapping.
    mutating func section(_ key: String, indent: Int = 0, comment: String? = nil) {
        self.lines.append(String(repeating: "  ", count: indent) + key + ":" + (comment.map { "  # " + $0 } ?? ""))
    }

    /// `key: value` with an already-rendered scalar.
    mutating func field(_ key: String, _ rendered: String, indent: Int = 0, comment: String? = nil) {
        self.lines.append(
            String(repeating: "  ", count: indent) + key + ": " + rendered + (comment.map { "  # " + $0 } ?? ""))
    }

    /// A raw line.
    mutating func raw(_ line: String) { self.lines.append(line) }

    /// A double-quoted YAML scalar.
    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\x" + String(scalar.value, radix: 16).leftPadded(to: 2)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// A flow list of quoted strings, `["a", "b"]`.
    static func list(_ items: [String]) -> String {
        "[" + items.map(Self.quote).joined(separator: ", ") + "]"
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        self.count >= width ? self : String(repeating: pad, count: width - self.count) + self
    }
}
