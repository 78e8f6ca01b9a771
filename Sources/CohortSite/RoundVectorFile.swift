import Foundation

/// Vectors a site keeps between rounds of a job, by round: SCAFFOLD's control variate (`control`) and the error
/// feedback residual of compressed updates (`residual`), in `STATE/jobs/<job>/<kind>-r<round>.bin`, raw
/// little-endian Float32, written atomically. Keeping one file per round means a round the coordinator repeats
/// after a restart starts from the same state as the first time.
struct RoundVectorFile {
    static let control = RoundVectorFile(kind: "control")
    static let residual = RoundVectorFile(kind: "residual")

    let kind: String

    func url(directory: URL, job: String, round: Int) -> URL {
        directory.appendingPathComponent("jobs/\(job)/\(self.kind)-r\(round).bin")
    }

    func save(_ values: [Float], directory: URL, job: String, round: Int) throws {
        let url = self.url(directory: directory, job: job, round: round)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try values.withUnsafeBytes { Data($0) }.write(to: url, options: .atomic)
    }

    /// The vector saved by the latest round before `round` (nil: none yet, i.e. zeros).
    func load(directory: URL, job: String, before round: Int, count: Int) -> [Float]? {
        let dir = directory.appendingPathComponent("jobs/\(job)")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return nil }
        let rounds = names.compactMap { n -> Int? in
            guard n.hasPrefix("\(self.kind)-r"), n.hasSuffix(".bin") else { return nil }
            return Int(n.dropFirst("\(self.kind)-r".count).dropLast(4))
        }.filter { $0 < round }
        guard let latest = rounds.max(), let data = try? Data(contentsOf: self.url(directory: directory, job: job, round: latest)),
              data.count == count * 4
        else { return nil }
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBytes { _ = data.copyBytes(to: $0) }
        return out
    }
}
