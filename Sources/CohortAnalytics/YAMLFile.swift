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
            throw AnalyticsError(code, "\(source): \(DatasetSchema.describe(e))" + (expected.map { "; \($0)" } ?? ""))
        } catch {
            throw AnalyticsError(code, "\(source): not valid YAML: \(error)")
        }
    }
}
