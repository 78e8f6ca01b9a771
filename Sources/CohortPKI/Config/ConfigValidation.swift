import Foundation

/// Checks shared by the kit configurations.
enum ConfigValidation {
    /// `name` and `project` must be valid participant names.
    static func identity(name: String, project: String, source: String) throws(PKIError) {
        guard ParticipantName.isValid(name) else {
            throw PKIError(.invalidConfig, file: source, key: "name", "'\(name)' is not a valid participant name",
                           hint: ParticipantName.rule)
        }
        guard ParticipantName.isValid(project) else {
            throw PKIError(.invalidConfig, file: source, key: "project", "'\(project)' is not a valid project name",
                           hint: ParticipantName.rule)
        }
    }

    /// A positive, finite number of seconds.
    static func seconds(_ value: Double, key: String, source: String) throws(PKIError) {
        guard value.isFinite, value > 0 else {
            throw PKIError(.invalidConfig, file: source, key: key, "\(value) must be a positive number of seconds")
        }
    }

    /// A positive count.
    static func positive(_ value: Int, key: String, source: String) throws(PKIError) {
        guard value > 0 else {
            throw PKIError(.invalidConfig, file: source, key: key, "\(value) must be at least 1")
        }
    }

    /// A non-empty relative or absolute directory path.
    static func directory(_ value: String, key: String, source: String) throws(PKIError) {
        guard !value.trimmingCharacters(in: [" ", "\t"]).isEmpty else {
            throw PKIError(.invalidConfig, file: source, key: key, "the directory path is empty")
        }
    }

    /// Renders seconds without a trailing `.0` for whole numbers.
    static func render(_ seconds: Double) -> String {
        seconds == seconds.rounded() && abs(seconds) < 1e15 ? String(Int(seconds)) : String(seconds)
    }
}
