import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Crash-safe file writes and streaming hashes, with POSIX calls so that `fsync` is explicit.
enum DurableFile {
    /// Writes `bytes` to `url` so that after a crash the file is either absent or complete.
    ///
    /// Writes a temporary file in the same directory, `fsync`s it, renames it over `url`, then `fsync`s the directory
    /// so the rename itself is durable.
    static func writeAtomically(_ bytes: [UInt8], to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw self.error("create", temporary) }
        var closed = false
        defer {
            if !closed { _ = close(fd) }
        }
        do {
            try bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw self.error("write", temporary)
                    }
                    offset += n
                }
            }
            guard fsync(fd) == 0 else { throw self.error("fsync", temporary) }
            closed = true
            guard close(fd) == 0 else { throw self.error("close", temporary) }
            guard rename(temporary.path, url.path) == 0 else { throw self.error("rename", url) }
        } catch {
            _ = unlink(temporary.path)
            throw error
        }
        try self.syncDirectory(directory)
    }

    /// `fsync`s a directory so that entries created or renamed in it survive a crash.
    static func syncDirectory(_ directory: URL) throws {
        let fd = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw self.error("open directory", directory) }
        defer { _ = close(fd) }
        guard fsync(fd) == 0 else { throw self.error("fsync directory", directory) }
    }

    /// The SHA-256 (lowercase hex) and size of the file at `url`, read in chunks; `nil` if there is no such file.
    static func sha256(of url: URL) throws -> (sha256: String, byteCount: Int)? {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw self.error("open", url)
        }
        defer { _ = close(fd) }
        var hasher = SHA256()
        var total = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw self.error("read", url)
            }
            if n == 0 { break }
            hasher.update(data: chunk[0..<n])
            total += n
        }
        return (Hex.string(hasher.finalize()), total)
    }

    /// The size of the regular file at `url`; `nil` if there is none.
    static func size(of url: URL) -> Int? {
        var info = stat()
        guard stat(url.path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(info.st_size)
    }

    /// Reads the whole file at `url` into one buffer (no intermediate copy); `nil` if there is no such file.
    static func contents(of url: URL) throws -> [UInt8]? {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw self.error("open", url)
        }
        defer { _ = close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw self.error("stat", url) }
        let size = Int(info.st_size)
        var failure: StoreError?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var offset = 0
            while offset < size {
                let n = read(fd, buffer.baseAddress! + offset, size - offset)
                if n < 0 && errno == EINTR { continue }
                if n < 0 {
                    failure = self.error("read", url)
                    break
                }
                if n == 0 { break }
                offset += n
            }
            initialized = offset
        }
        if let failure { throw failure }
        guard bytes.count == size else {
            throw StoreError(.io, "\(url.path) changed size while it was read; retry, and check nothing else writes it")
        }
        return bytes
    }

    private static func error(_ operation: String, _ url: URL) -> StoreError {
        let code = errno
        let reason = String(cString: strerror(code))
        return StoreError(
            .io,
            "\(operation) failed for \(url.path): \(reason) (errno \(code)). Check that the state directory exists, "
                + "is writable and has free space"
        )
    }
}
