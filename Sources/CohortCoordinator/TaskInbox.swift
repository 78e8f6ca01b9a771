import CohortAnalytics
import CohortSecAgg
import CohortStrategy
import CohortWire
import Foundation
import Synchronization

/// A one-shot reply to an RPC that waits for the round loop's verdict; resolving twice is ignored.
final class ReplySlot: Sendable {
    private let state = Mutex<CheckedContinuation<Cohort_V1_Receipt, Never>?>(nil)

    func arm(_ c: CheckedContinuation<Cohort_V1_Receipt, Never>) {
        self.state.withLock { $0 = c }
    }

    func resolve(_ receipt: Cohort_V1_Receipt) {
        let c = self.state.withLock { s -> CheckedContinuation<Cohort_V1_Receipt, Never>? in
            defer { s = nil }
            return s
        }
        c?.resume(returning: receipt)
    }
}

/// Routes results that arrive on RPCs to the round that is waiting for them.
///
/// A round opens a *collection* of task ids; handlers deliver results for those ids; the round loop reads them from
/// one stream, in arrival order. A result for a task that is not open (the round closed, or the task never existed)
/// is refused as late or unknown, so nothing arrives in a round it does not belong to.
actor TaskInbox {
    /// What a task produced.
    enum Event: Sendable {
        case update(SiteUpdate, reply: @Sendable (Cohort_V1_Receipt) -> Void)
        case evaluation(SiteEvaluation)
        case prepared(site: String, trainCount: Int, testCount: Int)
        /// A site's answer to a statistics query (JSON of a `SiteAnswer`).
        case statistics(site: String, answer: Data)
        case failure(SiteFailure)
        /// The deadline passed (the loop decides whether progress extends it).
        case deadline
        /// A secure aggregation message from a site (with its training report when it is the masked input).
        case secagg(site: String, message: SecAggMessage, training: SiteTrainingRecord?)
        /// A private set intersection message from a party (checked to come from that party), with the envelope it
        /// came in (relayed unchanged).
        case psi(site: String, message: PSIMessage, envelope: Cohort_V1_PSIEnvelope)
        /// A secure aggregation stage ran out of time (the stage's sequence number in the round).
        case stageTimeout(Int)
    }

    struct OpenTask: Sendable {
        var site: String
        var kind: Cohort_V1_TaskKind
        var job: String
        var round: Int
        var collection: UUID
        var lastProgress: Date?
        var bytesReceived: Int = 0
    }

    private var tasks: [String: OpenTask] = [:]
    private var collections: [UUID: AsyncStream<Event>.Continuation] = [:]
    /// Replies delivered into a collection and not yet answered by its round loop.
    private var replies: [UUID: [ReplySlot]] = [:]

    /// Opens a collection for tasks (task id -> task) and returns its id and event stream.
    func open(_ newTasks: [String: OpenTask]) -> (UUID, AsyncStream<Event>) {
        let id = newTasks.values.first?.collection ?? UUID()
        let (stream, continuation) = AsyncStream<Event>.makeStream()
        self.collections[id] = continuation
        for (k, v) in newTasks { self.tasks[k] = v }
        return (id, stream)
    }

    /// Closes a collection: its remaining tasks become unknown, later results are refused as late.
    func close(_ id: UUID) {
        self.tasks = self.tasks.filter { $0.value.collection != id }
        self.collections.removeValue(forKey: id)?.finish()
        for slot in self.replies.removeValue(forKey: id) ?? [] {
            slot.resolve(.refused("late", "the round closed before this result was processed; it was discarded"))
        }
    }

    /// Adds tasks to an open collection (asynchronous training hands out tasks as sites become free).
    func add(_ newTasks: [String: OpenTask]) {
        for (k, v) in newTasks where self.collections[v.collection] != nil { self.tasks[k] = v }
    }

    /// Posts a deadline event into a collection.
    func postDeadline(_ id: UUID) {
        self.collections[id]?.yield(.deadline)
    }

    /// The open task with this id, if it belongs to `site`.
    func task(_ taskID: String, site: String) -> OpenTask? {
        guard let t = self.tasks[taskID], t.site == site else { return nil }
        return t
    }

    /// Records upload progress (bytes so far) for a task.
    func progress(_ taskID: String, bytes: Int) {
        self.tasks[taskID]?.lastProgress = Date()
        self.tasks[taskID]?.bytesReceived = bytes
    }

    /// An upload for a task broke off: it no longer counts as progress.
    func uploadAborted(_ taskID: String) {
        self.tasks[taskID]?.lastProgress = nil
        self.tasks[taskID]?.bytesReceived = 0
    }

    /// The most recent upload progress among a collection's tasks.
    func latestProgress(_ id: UUID) -> Date? {
        self.tasks.values.filter { $0.collection == id }.compactMap(\.lastProgress).max()
    }

    /// Posts any event into a collection.
    func post(_ id: UUID, _ event: Event) {
        self.collections[id]?.yield(event)
    }

    /// Delivers one message of a task that exchanges several (secure aggregation); the task stays open. Returns
    /// false if the task is not open.
    func deliverMessage(_ taskID: String, _ event: Event) -> Bool {
        guard let t = self.tasks[taskID], let c = self.collections[t.collection] else { return false }
        self.tasks[taskID]?.lastProgress = Date()
        c.yield(event)
        return true
    }

    /// Delivers a result; returns false if the task is not open (late or unknown).
    func deliver(_ taskID: String, _ event: Event) -> Bool {
        guard let t = self.tasks.removeValue(forKey: taskID), let c = self.collections[t.collection] else { return false }
        c.yield(event)
        return true
    }

    /// Delivers an update and waits for the round loop's verdict; nil if the task is not open (late or unknown).
    func deliverUpdate(_ taskID: String, _ update: SiteUpdate) async -> Cohort_V1_Receipt? {
        guard let t = self.tasks.removeValue(forKey: taskID), let c = self.collections[t.collection] else { return nil }
        let slot = ReplySlot()
        self.replies[t.collection, default: []].append(slot)
        return await withCheckedContinuation { continuation in
            slot.arm(continuation)
            c.yield(.update(update, reply: { slot.resolve($0) }))
        }
    }

    /// A site's session ended: its open tasks fail as dropped.
    func siteDisconnected(_ site: String) {
        for (id, t) in self.tasks where t.site == site {
            self.tasks[id] = nil
            self.collections[t.collection]?.yield(.failure(SiteFailure(site: site, code: .dropped, message: "the site disconnected")))
        }
    }
}
