import CohortData
import Foundation
import Yams

/// Reading and decoding the module's YAML files (queries, site policies, schema mappings) with errors that name the
/// file and the key at fault.
enum YAMLFile {
    /// The text of a file; `what` names it in the error (e.g. "query file").
    static func read(_ url: URL, what: String) throws(AnalyticsError) -> String {
        do { return try String(contentsOf: url, encoding: .utf8) } catch {
            throw AnalyticsError(.io, "cannot read the \(what) \(url.path): \(error.localizedDescription)")
        }
    }

    /// Decodes YAML text; a decoding error names `source` and the key path, and ends with `expected`.
    static func decode<T: Decodable>(
        _ type: T.Type, from yaml: String, source: String, code: AnalyticsError.Code, expected: String? = nil
    ) throws(AnalyticsError) -> T {
        do {
            return try YAMLDecoder().decode(T.self, from: yaml)
        } catch let e as DecodingError {
            let at = Self.line(of: Self.codingPath(e), in: yaml).map { ":\($0)" } ?? ""
            throw AnalyticsError(code, "\(source)\(at): \(DatasetSchema.describe(e))" + (expected.map { "; \($0)" } ?? ""))
        } catch {
            throw AnalyticsError(code, "\(source): not valid YAML: \(error)")
        }
    }

    static func codingPath(_ e: DecodingError) -> [any CodingKey] {
        switch e {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): c.codingPath
        case .keyNotFound(let key, let c): c.codingPath + [key]
        @unknown default: []
        }
    }

    /// The 1-based line where a key path is written: each key is looked for from the line of the one before it
    /// (block or flow style); nil when the first key is not found. Good enough to point a person at the line.
    static func line(of path: [any CodingKey], in yaml: String) -> Int? {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        var from = 0
        var found: Int?
        for key in path where key.intValue == nil {
            let k = key.stringValue
            let hit = lines[from...].firstIndex { line in
                var rest = line[...]
                while let r = rest.range(of: k + ":") {
                    let before = r.lowerBound == line.startIndex ? " " : line[line.index(before: r.lowerBound)]
                    if " \t{,-\"'".contains(before) { return true }
                    rest = line[r.upperBound...]
                }
                return false
            }
            guard let hit else { break }
            found = hit + 1
            from = hit
        }
        return found
    }
}
