import Foundation
public import Logging
import Synchronization

/// A swift-log handler appending lines to a file: `TIME LEVEL key=value ... message`.
///
/// Sites keep one such file per job, so the people on call can read what happened to a job without the console.
public struct FileLogHandler: LogHandler {
    final class Sink: Sendable {
        let handle: Mutex<FileHandle?>
        init(url: URL) {
            try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            if !FileManager.default.fileExists(atPath: url.path) { FileManager.default.createFile(atPath: url.path, contents: nil) }
            let h = try? FileHandle(forWritingTo: url)
            _ = try? h?.seekToEnd()
            self.handle = Mutex(h)
        }
        func write(_ line: String) {
            self.handle.withLock { h in try? h?.write(contentsOf: Data(line.utf8)) }
        }
    }

    let sink: Sink
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info

    public init(url: URL) {
        self.sink = Sink(url: url)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = self.metadata
        if let m = event.metadata { all.merge(m) { _, new in new } }
        let meta = all.keys.sorted().map { "\($0)=\(all[$0]!)" }.joined(separator: " ")
        let time = ISO8601DateFormatter().string(from: Date())
        self.sink.write("\(time) \(event.level) \(meta) \(event.message)\n")
    }
}
