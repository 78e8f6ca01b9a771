import CohortData
public import CohortModel
import CohortPrivacy
public import CohortStrategy
public import Foundation

/// A regional tier seen from above: it takes a job's tasks for its region's sites and answers as one site.
///
/// The network's regional aggregator implements it over its own sites' connections; the site agent's session
/// drives it with the tasks its upstream coordinator sends, so an aggregator joins the federation through the same
/// code as a site.
public protocol RegionalTier: Sendable {
    /// The region's name (its certificate's).
    var name: String { get }

    /// Asks the region's sites to check and prepare the job; returns the region's training and test examples.
    /// Throws a ``SiteFailure`` (`.refused` for a job the tier cannot pass on faithfully).
    func prepare(job: String, spec: JobSpec, globalStatistics: Data, deadline: Date) async throws(SiteFailure) -> (train: Int, test: Int)

    /// The model layout of a job the region prepared (nil if it did not).
    func layout(of job: String) async -> ParameterLayout?

    /// Runs one training round at the region's sites; returns the region's exact partial sum as one update.
    func train(job: String, round: Int, instructions: TrainInstructions, global: ModelParameters,
               deadline: Date) async throws(SiteFailure) -> SiteUpdate

    /// Evaluates `global` at the region's sites; returns their merged evaluation under the region's name.
    func evaluate(job: String, round: Int, global: ModelParameters, deadline: Date) async throws(SiteFailure) -> SiteEvaluation

    /// Tells the region's sites that the job ended.
    func finish(job: String, status: String) async
}

extension JobSpec {
    /// Why a regional tier cannot stand in for its sites in this job (nil: it can, and the two-tier model equals the
    /// flat one bit for bit).
    public var regionalRefusal: String? {
        if !self.strategy.passesRegionalSums {
            return "strategy \(self.strategy.name) needs each site's own update; a region passes up one exact sum (use fedavg, fedavgm, fedprox or a FedOpt strategy)"
        }
        if self.asynchronous != nil { return "asynchronous jobs do not run through a regional aggregator yet" }
        if self.personalization != nil { return "personal layers do not run through a regional aggregator yet" }
        if self.standardize == .global {
            return "standardize: global needs each site's statistics, which a regional aggregator does not relay yet; use per-site"
        }
        if let p = self.privacy {
            if p.secureAggregation { return "secure aggregation does not span a regional tier yet; the region would have to unmask its sites' sum" }
            if case .local(_, _) = p.configuration.mode {} else {
                return "central DP clips each site's update at the coordinator, which a regional sum hides; use mode local (DP-SGD at each site)"
            }
        }
        return nil
    }
}
