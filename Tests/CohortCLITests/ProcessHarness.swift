import CohortTesting
import Foundation
import Testing

/// A child process of the test: output goes to files (never a full pipe), and it is killed when the test ends.
final class Child: @unchecked Sendable {  // used from one test task at a time
    let process = Process()
    let name: String
    let stdoutURL: URL
    let stderrURL: URL

    init(name: String, arguments: [String], directory: TemporaryDirectory, environment: [String: String] = [:]) throws {
        self.name = name
        self.stdoutURL = directory.path("\(name).out")
        self.stderrURL = directory.path("\(name).err")
        FileManager.default.createFile(atPath: self.stdoutURL.path, contents: nil)
        FileManager.default.createFile(atPath: self.stderrURL.path, contents: nil)
        self.process.executableURL = CohortBinary.url
        self.process.arguments = arguments
        self.process.currentDirectoryURL = directory.url
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        self.process.environment = env
        self.process.standardOutput = try FileHandle(forWritingTo: self.stdoutURL)
        self.process.standardError = try FileHandle(forWritingTo: self.stderrURL)
        try self.process.run()
    }

    var stderr: String { (try? String(contentsOf: self.stderrURL, encoding: .utf8)) ?? "" }
    var stdout: String { (try? String(contentsOf: self.stdoutURL, encoding: .utf8)) ?? "" }

    /// Waits until the process's standard error contains `text`, or fails after `timeout` seconds.
    func waitFor(_ text: String, timeout: Double = 60) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if self.stderr.contains(text) || self.stdout.contains(text) { return }
            if !self.process.isRunning {
                Issue.record("\(self.name) exited (\(self.process.terminationStatus)) before printing '\(text)':\n\(self.stderr.suffix(3000))")
                throw HarnessError.exited(self.name)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("\(self.name) did not print '\(text)' within \(timeout) s:\n\(self.stderr.suffix(3000))")
        throw HarnessError.timeout(self.name)
    }

    /// Waits for the process to exit; returns its status.
    @discardableResult
    func waitForExit(timeout: Double = 60) async throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while self.process.isRunning {
            if Date() > deadline { throw HarnessError.timeout(self.name) }
            try await Task.sleep(for: .milliseconds(50))
        }
        return self.process.terminationStatus
    }

    /// Freezes the process (SIGSTOP) until ``resume()``: a site that stops answering without disconnecting.
    func pause() {
        if self.process.isRunning { kill(self.process.processIdentifier, SIGSTOP) }
    }

    func resume() {
        if self.process.isRunning { kill(self.process.processIdentifier, SIGCONT) }
    }

    func kill9() {
        if self.process.isRunning { kill(self.process.processIdentifier, SIGKILL) }
        self.process.waitUntilExit()
    }

    func stop() {
        if self.process.isRunning {
            kill(self.process.processIdentifier, SIGCONT)
            self.process.terminate()
            let deadline = Date().addingTimeInterval(5)
            while self.process.isRunning && Date() < deadline { usleep(20_000) }
            self.kill9()
        }
    }

    deinit { self.stop() }
}

enum HarnessError: Error {
    case exited(String)
    case timeout(String)
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    withUnsafeMutablePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sp in
            _ = bind(fd, sp, len)
            _ = getsockname(fd, sp, &len)
        }
    }
    return Int(UInt16(bigEndian: addr.sin_port))
}
