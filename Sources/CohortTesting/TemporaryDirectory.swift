public import Foundation

/// A fresh directory under the system temporary directory, removed by ``remove()``.
public struct TemporaryDirectory: Sendable {
    public let url: URL

    /// Creates the directory.
    public init(prefix: String = "cohort-test") throws {
        self.url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.url, withIntermediateDirectories: true)
    }

    /// Writes a text file (creating intermediate directories) and returns its URL.
    @discardableResult
    public func write(_ relativePath: String, _ text: String) throws -> URL {
        let u = self.url.appendingPathComponent(relativePath)
        try FileManager.default.createDirectory(at: u.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: u)
        return u
    }

    /// The URL of a path inside the directory.
    public func path(_ relativePath: String) -> URL { self.url.appendingPathComponent(relativePath) }

    /// Deletes the directory and everything in it.
    public func remove() {
        try? FileManager.default.removeItem(at: self.url)
    }
}

/// Paths to data shipped beside the repository.
public enum SharedData {
    /// `../shared/data` relative to the package root, if present.
    public static var directory: URL? {
        var dir = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { dir.deleteLastPathComponent() }
        let shared = dir.deletingLastPathComponent().appendingPathComponent("shared/data")
        return FileManager.default.fileExists(atPath: shared.path) ? shared : nil
    }

    /// The package root (the directory holding Package.swift).
    public static var packageRoot: URL {
        var dir = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { dir.deleteLastPathComponent() }
        return dir
    }
}
