import CohortTensor
import CohortModel
import CohortWire
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2

/// A scripted site speaking the wire protocol directly, for misbehaviour the real agent never shows.
struct FakeSite: Sendable {
    enum Behaviour: Sendable {
        /// Sends an update with a NaN in it.
        case nanUpdate
        /// Sends an update of the wrong length.
        case wrongShape
        /// Sends the header and part of the update, then drops the call.
        case disconnectMidUpload
        /// Never answers training tasks in time; answers after `delay` seconds instead (a late update).
        case late(delay: Double)
        /// Sends a regional aggregator's exact partial sum, which only an aggregator's certificate may send.
        case partialSum
    }

    let name: String
    let behaviour: Behaviour
    let client: Cohort_V1_Federation.Client<HTTP2ClientTransport.Posix>

    /// Receipts the coordinator sent back for this site's updates.
    final class Log: @unchecked Sendable {  // guarded by the lock
        let lock = NSLock()
        var receipts: [Cohort_V1_Receipt] = []
        var errors: [String] = []
        func add(_ r: Cohort_V1_Receipt) { self.lock.lock(); self.receipts.append(r); self.lock.unlock() }
        func add(error: String) { self.lock.lock(); self.errors.append(error); self.lock.unlock() }
        var snapshot: (receipts: [Cohort_V1_Receipt], errors: [String]) {
            self.lock.lock()
            defer { self.lock.unlock() }
            return (self.receipts, self.errors)
        }
    }

    let log = Log()

    func hello() async throws {
        var h = Cohort_V1_HelloRequest()
        h.versions = WireProtocol.versions(software: "fake")
        h.site = self.name
        _ = try await self.client.hello(h)
    }

    /// Keeps a session open, answering tasks with the scripted behaviour, until cancelled.
    func run() async throws {
        try await self.hello()
        let (out, sink) = AsyncStream<Cohort_V1_SiteEvent>.makeStream()
        try await self.client.session { writer in
            var hb = Cohort_V1_SiteEvent()
            hb.protocol = WireProtocol.version
            hb.site = self.name
            hb.heartbeat = Cohort_V1_Heartbeat()
            try await writer.write(hb)
            for await e in out { try await writer.write(e) }
        } onResponse: { response in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for try await event in response.messages {
                    guard case .task(let task)? = event.event else { continue }
                    switch task.kind {
                    case .prepare:
                        var e = Cohort_V1_SiteEvent()
                        e.protocol = WireProtocol.version
                        e.site = self.name
                        var p = Cohort_V1_PrepareResult()
                        p.taskID = task.taskID
                        p.jobID = task.jobID
                        p.trainCount = 100
                        p.testCount = 10
                        e.prepared = p
                        sink.yield(e)
                    case .train:
                        group.addTask { await self.answer(task) }
                    case .evaluate:
                        var f = Cohort_V1_TaskFailureReport()
                        f.protocol = WireProtocol.version
                        f.site = self.name
                        f.taskID = task.taskID
                        f.jobID = task.jobID
                        f.round = task.round
                        f.code = "no-test-data"
                        f.message = "scripted site"
                        _ = try? await self.client.reportTaskFailure(f)
                    default: break
                    }
                }
                sink.finish()
            }
        }
    }

    func answer(_ task: Cohort_V1_Task) async {
        let n = Int(task.model.elementCount)
        var values = [Float](repeating: 0.001, count: n)
        switch self.behaviour {
        case .nanUpdate: values[0] = .nan
        case .wrongShape: values = [Float](repeating: 0.001, count: max(1, n - 3))
        case .disconnectMidUpload, .late, .partialSum: break
        }
        if case .late(let delay) = self.behaviour { try? await Task.sleep(for: .milliseconds(Int(delay * 1000))) }
        var header = Cohort_V1_UpdateHeader()
        header.protocol = WireProtocol.version
        header.site = self.name
        header.taskID = task.taskID
        header.jobID = task.jobID
        header.round = task.round
        header.exampleCount = 100
        header.update = Cohort_V1_ModelRef(vector: values)
        var bytes = values.withUnsafeBytes { Array($0) }
        if case .partialSum = self.behaviour {
            // Ten sites' worth of weight in one "update": what a site posing as a region would try.
            var sum = ExactAccumulator(count: n)
            try? sum.add(values, weight: 1000)
            bytes = sum.serialized()
            header.exampleCount = 1000
            header.encoding = WireProtocol.partialSumEncoding
            header.update.byteCount = UInt64(bytes.count)
            header.update.sha256 = Safetensors.sha256Hex(bytes)
        }
        let finalHeader = header
        let finalBytes = bytes
        let truncate = { if case .disconnectMidUpload = self.behaviour { return true } else { return false } }()
        do {
            let receipt = try await self.client.submitUpdate { writer in
                var h = Cohort_V1_UpdateMessage()
                h.header = finalHeader
                try await writer.write(h)
                var d = Cohort_V1_UpdateMessage()
                d.data = Data(finalBytes.prefix(truncate ? finalBytes.count / 2 : finalBytes.count))
                try await writer.write(d)
                if truncate { throw CancellationError() }
            }
            self.log.add(receipt)
        } catch {
            self.log.add(error: "\(error)")
        }
    }
}
