import CohortData
import CohortModel
import CohortPKI
import CohortRuntime
import Foundation

/// A job this site accepted: its definition, the site's encoded data and the executor that trains on it.
struct PreparedJob: Sendable {
    var jobID: String
    var spec: JobSpec
    var executor: SiteExecutor
    var dataset: SiteDataset
}

/// Why a site will not take part in a job. Messages name the rule and never contain data values.
struct PolicyRefusal: Error, CustomStringConvertible {
    var code: String
    var message: String
    var description: String { "\(self.code): \(self.message)" }
}

extension SitePolicy {
    /// Checks a job against this policy before any data is touched.
    func check(_ spec: JobSpec) -> PolicyRefusal? {
        let tasks = Set(self.allowedTasks.map(\.rawValue))
        if !tasks.contains("train") {
            return PolicyRefusal(code: "policy", message: "this site's policy does not allow training tasks (allowed_tasks: \(tasks.sorted().joined(separator: ", ")))")
        }
        let models = Set(self.allowedModels.map(\.rawValue))
        if !models.contains(spec.model.rawValue) {
            return PolicyRefusal(code: "policy", message: "the job trains a \(spec.model.rawValue) model; this site allows \(models.sorted().joined(separator: ", "))")
        }
        if spec.minimumSites < self.minSitesPerAggregate {
            return PolicyRefusal(code: "policy", message: "the job aggregates as few as \(spec.minimumSites) sites; this site requires at least \(self.minSitesPerAggregate) in any aggregate")
        }
        if spec.rounds > self.maxRounds {
            return PolicyRefusal(code: "policy", message: "the job asks for \(spec.rounds) rounds; this site allows at most \(self.maxRounds)")
        }
        if self.requireSecureAggregation, spec.privacy?.secureAggregation != true {
            return PolicyRefusal(code: "policy", message: "this site requires secure aggregation and the job does not use it")
        }
        return nil
    }

    /// Whether a task kind is allowed.
    func allows(task: String) -> Bool { self.allowedTasks.contains { $0.rawValue == task } }
}
