import CohortPKI
import CohortStore
import Foundation
import Logging

/// Settings of a running coordinator, from its kit's `coordinator.yaml`.
struct CoordinatorSettings: Sendable {
    var name: String
    var heartbeatSeconds: Int
    var maxMessageBytes: Int
    var maxUpdateBytes: Int
    var stallTimeoutSeconds: Int
    var software: String
}

/// Everything the coordinator's services and job runner share.
final class CoordinatorContext: Sendable {
    let config: CoordinatorSettings
    let records: CoordinatorRecords
    let registry: SiteRegistry
    let inbox: TaskInbox
    let verifier: IdentityVerifier
    let revocations: RevocationSet
    let uploads = UploadSlots()
    /// Bounds the model bytes queued for downloads at once (each download is encrypted and buffered per connection).
    let downloads = UploadSlots(capacity: 4, unitBytes: 8 << 20)
    let baseLogger: Logger

    init(config: CoordinatorSettings, records: CoordinatorRecords, verifier: IdentityVerifier, revocations: RevocationSet, logger: Logger) {
        self.config = config
        self.records = records
        self.registry = SiteRegistry()
        self.inbox = TaskInbox()
        self.verifier = verifier
        self.revocations = revocations
        self.baseLogger = logger
    }

    /// A logger whose every line carries the job and round.
    func logger(job: String, round: Int? = nil, site: String? = nil) -> Logger {
        var l = self.baseLogger
        l[metadataKey: "job"] = "\(job)"
        if let round { l[metadataKey: "round"] = "\(round)" }
        if let site { l[metadataKey: "site"] = "\(site)" }
        return l
    }
}

/// Revoked certificate fingerprints, checked on every call; updated at run time (no restart needed).
actor RevocationSet {
    private var fingerprints: Set<String>
    private var names: [String: String] = [:]

    init(fingerprints: Set<String>) {
        self.fingerprints = fingerprints
    }

    func isRevoked(_ fingerprint: String) -> Bool { self.fingerprints.contains(fingerprint) }

    func add(fingerprint: String, name: String) {
        self.fingerprints.insert(fingerprint)
        self.names[fingerprint] = name
    }
}
