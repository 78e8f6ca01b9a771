import CohortTensor
import Foundation

/// How a round's participants are chosen from the available sites. Every policy draws only from the job seed, the
/// round number and the run's history, so simulation and network pick the same sites.
public enum SelectionPolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// Every subset of the round's size equally likely.
    case uniform
    /// Sites drawn without replacement with probability proportional to their training examples.
    case weighted
    /// Sites in name order, the next block each round, wrapping around: every site is visited equally often.
    case roundRobin = "round-robin"
    /// Sites drawn with probability proportional to how reliably they answered so far (a Beta(1, 1) posterior
    /// mean of answered / selected), so sites that keep dropping out are asked less often but never excluded.
    case availability

    public static let names = allCases.map(\.rawValue)
}

/// How often each site was selected and answered in a run so far, for availability-aware selection.
public struct SelectionHistory: Sendable, Hashable, Codable {
    public struct Counts: Sendable, Hashable, Codable {
        public var selected = 0
        public var answered = 0
    }

    public var sites: [String: Counts] = [:]

    public init() {}

    /// The history with one more round: its participants and the sites whose updates were aggregated.
    public mutating func record(participants: [String], aggregated: [String]) {
        for p in participants { self.sites[p, default: Counts()].selected += 1 }
        for a in aggregated { self.sites[a, default: Counts()].answered += 1 }
    }

    /// Posterior mean probability that a site answers when selected (1/2 for a site never selected).
    public func reliability(of site: String) -> Double {
        let c = self.sites[site] ?? Counts()
        return (Double(c.answered) + 1) / (Double(c.selected) + 2)
    }
}

extension RoundContext {
    /// How many sites a round selects: `max(minimumSites, ceil(fraction * available))`, at most all of them.
    public var selectionSize: Int {
        let n = self.available.count
        return min(n, max(self.minimumSites, Int((self.fraction * Double(n)).rounded(.up))))
    }
}

extension Strategy {
    /// The round's participants under the context's selection policy, sorted by name.
    public func selectSites(_ context: RoundContext) -> [String] {
        Self.select(context, count: context.selectionSize)
    }

    /// `count` sites under the context's selection policy, sorted by name.
    public static func select(_ context: RoundContext, count: Int) -> [String] {
        let available = context.available
        let n = available.count
        let k = min(n, max(0, count))
        if k >= n { return available.map(\.name) }
        var rng = RandomSource(seed: context.seed).derived("select", String(context.round))
        switch context.selection {
        case .uniform:
            return rng.permutation(n).prefix(k).map { available[$0].name }.sorted()
        case .roundRobin:
            let start = ((context.round - 1) * k) % n
            return (0..<k).map { available[(start + $0) % n].name }.sorted()
        case .weighted:
            return Self.weightedSample(available, k: k, rng: &rng) { Double(max(1, $0.trainCount)) }
        case .availability:
            return Self.weightedSample(available, k: k, rng: &rng) { context.history.reliability(of: $0.name) }
        }
    }

    /// Weighted sampling without replacement (Efraimidis and Spirakis, "Weighted random sampling with a
    /// reservoir", 2006): the k largest keys `u^(1/w)`, computed as `log(u) / w` to stay exact for small weights.
    static func weightedSample(_ sites: [SiteInfo], k: Int, rng: inout RandomSource, weight: (SiteInfo) -> Double) -> [String] {
        let keyed = sites.map { site -> (key: Double, name: String) in
            (Foundation.log(rng.uniformOpen()) / max(weight(site), 1e-12), site.name)
        }
        return keyed.sorted { $0.key > $1.key || ($0.key == $1.key && $0.name < $1.name) }.prefix(k).map(\.name).sorted()
    }
}
