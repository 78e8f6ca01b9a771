import CohortModel
import CohortRuntime
import CohortStore
import CohortStrategy
import CohortTensor
import CohortWire
import Foundation
import Logging

extension SiteSession {
    /// A task for a regional aggregator: the region's sites do the work; this link passes the job down and the
    /// region's one answer up (an exact partial sum, a merged evaluation), through the same calls a site uses.
    func handle(_ task: Cohort_V1_Task, for region: any RegionalTier, outgoing: AsyncStream<Cohort_V1_SiteEvent>.Continuation,
                logger: Logger) async {
        let round = Int(task.round)
        let deadline = task.deadlineUnixMs > 0
            ? Date(timeIntervalSince1970: Double(task.deadlineUnixMs) / 1000) : Date().addingTimeInterval(600)
        do {
            switch task.kind {
            case .prepare:
                let spec: JobSpec
                do { spec = try task.job.jobSpec() } catch {
                    await self.fail(task, code: "invalid-job", message: error.message, logger: logger)
                    return
                }
                let counts = try await region.prepare(job: task.jobID, spec: spec, globalStatistics: task.globalStatistics, deadline: deadline)
                self.sendPrepared(task, train: counts.train, test: counts.test, outgoing: outgoing)
                logger.info("region accepted job \(task.jobID) (\(spec.name)): \(counts.train) training and \(counts.test) test examples")
            case .train, .evaluate:
                guard let layout = await region.layout(of: task.jobID) else {
                    await self.fail(task, code: "unprepared", message: "region \(region.name) has not prepared job \(task.jobID)", logger: logger)
                    return
                }
                let global = try await self.fetchModel(task.model, job: task.jobID, layout: layout)
                if task.kind == .evaluate {
                    let merged = try await region.evaluate(job: task.jobID, round: round, global: global, deadline: deadline)
                    try await self.report(task, evaluation: merged, logger: logger)
                    return
                }
                if task.hasControl || task.hasSecagg {
                    throw SiteFailure(site: self.site, code: .refused, message: "a regional aggregator passes up plain example-weighted sums; this round needs control variates or secure aggregation")
                }
                var instructions = try task.instructions.trainInstructions()
                instructions.round = round
                let update = try await region.train(job: task.jobID, round: round, instructions: instructions, global: global, deadline: deadline)
                guard let sum = update.partial else {
                    throw SiteFailure(site: self.site, code: .failed, message: "the region returned no partial sum")
                }
                let bytes = sum.compactSerialized()
                var ref = Cohort_V1_ModelRef()
                ref.elementCount = UInt64(sum.count)
                ref.byteCount = UInt64(bytes.count)
                ref.sha256 = bytes.withUnsafeBytes { Safetensors.sha256Hex($0) }
                try await self.upload(task, update: update, ref: ref, payload: .bytes(bytes), encoding: WireProtocol.partialSumEncoding, logger: logger)
            case .finish:
                await region.finish(job: task.jobID, status: task.jobStatus)
                logger.info("job ended: \(task.jobStatus)")
            case .statistics, .psi:
                await self.fail(task, code: "unsupported", message: "regional aggregator \(region.name) does not relay statistics queries or set intersections yet; query the region's sites through a flat project", logger: logger)
            default:
                logger.warning("ignoring a task of unknown kind \(task.kind.rawValue) (a newer coordinator?)")
            }
        } catch let f as SiteFailure {
            if f.code == .refused {
                await self.refuse(task, code: "region", message: f.message, outgoing: outgoing, logger: logger)
            } else {
                await self.fail(task, code: f.code.rawValue, message: f.message, logger: logger)
            }
        } catch {
            await self.fail(task, code: "failed", message: "\(error)", logger: logger)
        }
    }
}
