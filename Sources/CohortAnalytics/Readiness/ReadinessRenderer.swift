public import Foundation

/// Renders readiness reports as text, JSON, and self-contained HTML pages (inline CSS and SVG, no scripts).
public enum ReadinessRenderer {
    /// A plain-text summary of every site and the federation's findings.
    public static func text(_ r: FederationReadiness) -> String {
        var lines = ["Data readiness: \(r.sites.count) sites, \(r.features.count) features"]
        if !r.flags.isEmpty {
            lines.append("")
            lines.append("Federation:")
            for f in r.flags { lines.append("  \(Self.mark(f.severity)) \(f.column.map { "\($0): " } ?? "")\(f.message)") }
        }
        for s in r.sites {
            lines.append("")
            var head = "\(s.site): \(s.rows) rows"
            if let l = s.label, let p = l.prevalence { head += ", \(l.column) = \(l.classes.last ?? "1") in \(String(format: "%.1f%%", 100 * p)) of rows" }
            let bad = s.flags.filter { $0.severity != .info }.count
            head += bad == 0 ? ", no warnings" : ", \(bad) warning\(bad == 1 ? "" : "s")"
            lines.append(head)
            for f in s.flags { lines.append("  \(Self.mark(f.severity)) \(f.column.map { "\($0): " } ?? "")\(f.message)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func mark(_ s: ReadinessFlag.Severity) -> String {
        switch s {
        case .critical: "[critical]"
        case .warning: "[warning] "
        case .info: "[info]    "
        }
    }

    /// Pretty JSON with sorted keys.
    public static func json(_ r: FederationReadiness) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(r)
    }

    /// Writes `readiness.txt`, `readiness.json`, `federation.html` and `site-<name>.html` into `directory`.
    @discardableResult
    public static func write(_ r: FederationReadiness, to directory: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var written = [URL]()
        func put(_ name: String, _ data: Data) throws {
            let u = directory.appendingPathComponent(name)
            try data.write(to: u)
            written.append(u)
        }
        try put("readiness.txt", Data(Self.text(r).utf8))
        try put("readiness.json", try Self.json(r))
        try put("federation.html", Data(ReadinessHTML.federation(r).utf8))
        for s in r.sites { try put("site-\(Self.fileName(s.site)).html", Data(ReadinessHTML.site(s, federation: r).utf8)) }
        return written
    }

    /// A site name made safe for a file name.
    static func fileName(_ s: String) -> String {
        String(s.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }
}
