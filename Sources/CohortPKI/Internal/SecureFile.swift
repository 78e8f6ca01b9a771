import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// File writes with exact permissions.
enum SecureFile {
    /// Creates a new file with `mode` (it must not exist): private keys are never readable by others, not even
    /// briefly between creation and a later chmod.
    static func create(_ url: URL, contents: String, mode: mode_t) throws(PKIError) {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw PKIError(.io, file: url.path, "cannot create the file: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        guard fchmod(fd, mode) == 0 else {
            throw PKIError(.io, file: url.path, "cannot set the file mode: \(String(cString: strerror(errno)))")
        }
        let bytes = Array(contents.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw PKIError(.io, file: url.path, "cannot write the file: \(String(cString: strerror(errno)))")
            }
            written += n
        }
    }

    /// Writes a file by replacing it atomically (write to a temporary name, then rename), with `mode`.
    static func replace(_ url: URL, contents: Data, mode: mode_t = 0o644) throws(PKIError) {
        do {
            try contents.write(to: url, options: .atomic)
        } catch {
            throw PKIError(.io, file: url.path, "cannot write the file: \(error.localizedDescription)")
        }
        try Self.setMode(url, mode)
    }

    /// Creates a directory (and parents) and sets its mode.
    static func makeDirectory(_ url: URL, mode: mode_t = 0o755) throws(PKIError) {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw PKIError(.io, file: url.path, "cannot create the directory: \(error.localizedDescription)")
        }
        try Self.setMode(url, mode)
    }

    static func setMode(_ url: URL, _ mode: mode_t) throws(PKIError) {
        guard chmod(url.path, mode) == 0 else {
            throw PKIError(.io, file: url.path, "cannot set the file mode: \(String(cString: strerror(errno)))")
        }
    }

    /// The permission bits of a file, or nil if it cannot be examined.
    static func mode(of url: URL) -> mode_t? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
              let mode = attributes[.posixPermissions] as? NSNumber
        else { return nil }
        return mode_t(mode.uint32Value & 0o7777)
    }

    /// Whether something exists at `url`.
    static func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }

    /// Renames `from` to `to` (same file system).
    static func move(_ from: URL, to: URL) throws(PKIError) {
        guard rename(from.path, to.path) == 0 else {
            throw PKIError(.io, file: to.path, "cannot move \(from.path) into place: \(String(cString: strerror(errno)))")
        }
    }
}
