import CohortModel
import CohortPKI
import CohortRuntime
import CohortStore
import CohortWire
import Foundation
import Logging
import Synchronization

/// Models the coordinator stored or read recently: checkpoints are written once, and a model that every site of a
/// round downloads is read from disk once.
final class ModelCache: Sendable {
    private let stored = Mutex<Set<String>>([])
    private let recent = Mutex<[(sha256: String, bytes: [UInt8])]>([])
    private let chunked = Mutex<(sha256: String, chunks: [Data])?>(nil)

    /// The model's wire chunks, built once per model and shared by every site that downloads it.
    func chunks(_ sha: String, bytes: () throws -> [UInt8]) rethrows -> [Data] {
        if let c = self.chunked.withLock({ $0?.sha256 == sha ? $0?.chunks : nil }) { return c }
        let b = try bytes()
        let c = chunkRanges(byteCount: b.count).map { byteChunk(b, $0) }
        self.chunked.withLock { $0 = (sha, c) }
        return c
    }
    private let lastReference = Mutex<(flat: [Float], ref: Cohort_V1_ModelRef)?>(nil)

    /// The reference of the model last stored, if `flat` is that model (a byte comparison, cheaper than hashing).
    func reference(for flat: [Float]) -> Cohort_V1_ModelRef? {
        self.lastReference.withLock { last in
            guard let last, last.flat.count == flat.count else { return nil }
            let same = last.flat.withUnsafeBytes { a in flat.withUnsafeBytes { b in memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 } }
            return same ? last.ref : nil
        }
    }

    func rememberReference(_ flat: [Float], _ ref: Cohort_V1_ModelRef) {
        self.lastReference.withLock { $0 = (flat, ref) }
    }

    func isStored(_ sha: String) -> Bool { self.stored.withLock { $0.contains(sha) } }
    func markStored(_ sha: String) { self.stored.withLock { _ = $0.insert(sha) } }

    func bytes(_ sha: String) -> [UInt8]? { self.recent.withLock { r in r.first { $0.sha256 == sha }?.bytes } }

    func remember(_ sha: String, _ bytes: [UInt8]) {
        self.recent.withLock { r in
            r.removeAll { $0.sha256 == sha }
            r.insert((sha, bytes), at: 0)
            if r.count > 2 { r.removeLast() }
        }
    }
}

/// The coordinator's durable records: one facade over ``CoordinatorStore`` so that the services and the job runner
/// speak in Cohort's terms (jobs, rounds, models) and every write that matters is audited.
struct CoordinatorRecords: Sendable {
    let store: CoordinatorStore
    let logger: Logger
    let models = ModelCache()

    /// Appends an audit entry; a failure to audit is logged as an error (the operation itself has happened).
    func audit(_ actor: String, _ event: String, _ payload: [String: LogValue] = [:], hashes: [String] = []) {
        do {
            _ = try self.store.audit.append(actor: actor, event: event, payload: payload, contentHashes: hashes)
        } catch {
            self.logger.error("cannot write the audit log: \(error)", metadata: ["event": "\(event)"])
        }
    }

    /// Stores a model as a content-addressed checkpoint (once) and returns its reference.
    ///
    /// - Parameter knownSHA256: The SHA-256 of the model's bytes, when the caller already computed it.
    func modelRef(for model: ModelParameters, knownSHA256: String? = nil) throws -> Cohort_V1_ModelRef {
        if let cached = self.models.reference(for: model.flat) { return cached }
        let bytes = model.bytes
        let sha = knownSHA256 ?? Safetensors.sha256Hex(bytes)
        if !self.models.isStored(sha) {
            _ = try self.store.writeCheckpoint(bytes: bytes, sha256: sha)
            self.models.markStored(sha)
            self.models.remember(sha, bytes)
        }
        var ref = Cohort_V1_ModelRef()
        ref.sha256 = sha
        ref.elementCount = UInt64(model.count)
        ref.byteCount = UInt64(bytes.count)
        self.models.rememberReference(model.flat, ref)
        return ref
    }

    func readModel(sha256: String) throws -> [UInt8] {
        if let cached = self.models.bytes(sha256) { return cached }
        let bytes = try self.store.readCheckpoint(sha256: sha256)
        self.models.remember(sha256, bytes)
        return bytes
    }

    // MARK: Jobs

    func createJob(_ spec: JobSpec, submittedBy: String) throws -> JobRow {
        let existing = try self.store.jobs(status: nil)
        let id = String(format: "job-%04d", existing.count + 1)
        let specJSON = String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)
        let row = JobRow(id: id, name: spec.name, specJSON: specJSON, status: .queued, submittedBy: submittedBy,
                         submittedAt: Date(), startedAt: nil, finishedAt: nil, roundsCompleted: 0, message: nil,
                         finalModelSHA256: nil)
        try self.store.insertJob(row)
        return row
    }

    /// Records a site's connection (first and last seen, certificate, software).
    func siteSeen(_ identity: PeerIdentity, software: String) {
        let now = Date()
        do {
            try self.store.upsertSite(SiteRow(name: identity.name, organization: identity.organization, firstSeen: now, lastSeen: now,
                                              certFingerprint: identity.fingerprint, certNotAfter: identity.notAfter,
                                              softwareVersion: software.isEmpty ? nil : software))
        } catch {
            self.logger.error("cannot record site \(identity.name): \(error)")
        }
    }

    /// Whether a site may download a model: the job exists, names the site (or any site), and the model is stored.
    func siteMayFetch(site: String, job: String, sha256: String) -> Bool {
        guard let row = try? self.store.job(id: job), let spec = try? self.spec(of: row) else { return false }
        guard spec.sites.isEmpty || spec.sites.contains(site) else { return false }
        return (try? self.store.hasCheckpoint(sha256: sha256)) ?? false
    }

    /// A stored model as wire chunks (cached for the most recent model).
    func modelChunks(sha256: String) throws -> (chunks: [Data], byteCount: Int) {
        let chunks = try self.models.chunks(sha256) { try self.readModel(sha256: sha256) }
        return (chunks, chunks.reduce(0) { $0 + $1.count })
    }

    /// Where a `standardize: global` job's federation statistics are kept.
    func standardizationFile(job: String) -> URL {
        self.store.directory.appendingPathComponent("jobs/\(job)/standardization.json")
    }

    func saveStandardization(_ data: Data, job: String) throws {
        let url = self.standardizationFile(job: job)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url, options: .atomic)
    }

    func spec(of job: JobRow) throws -> JobSpec {
        try JSONDecoder().decode(JobSpec.self, from: Data(job.specJSON.utf8))
    }
}
