public import CohortTensor

/// A simulated attack by some sites, for robustness tests and experiments (never part of a deployment).
///
/// Attackers are chosen from the sites by the job seed alone (``chooseAttackers(among:seed:)``), so a run is
/// reproducible. Update attacks (sign flip, scaling, noise) replace what an attacker sends with ``AttackingSites``;
/// label flipping makes the attacker train honestly on corrupted labels (``flippingLabels(_:)``).
public struct AttackSpec: Sendable, Hashable, Codable, CustomStringConvertible {
    /// What the attackers do.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// Send `-magnitude ×` the honest update (default 4): pushes the model uphill. Under FedAvg's example
        /// weighting it outweighs the honest sites only when `magnitude` exceeds about `(1 - s) / s`, where `s` is
        /// the attackers' share of the examples; below that it slows FedAvg down.
        case signFlip = "sign-flip"
        /// Send `magnitude ×` the honest update (default 100).
        case scale
        /// Send Gaussian noise with standard deviation `magnitude` per parameter (default 10) instead of an update.
        case noise
        /// Train on flipped labels (class `c` becomes `classCount - 1 - c`) and send that update as is.
        case labelFlip = "label-flip"

        /// The magnitude used when none is given.
        public var defaultMagnitude: Double {
            switch self {
            case .signFlip: 4
            case .scale: 100
            case .noise: 10
            case .labelFlip: 1
            }
        }
    }

    public var kind: Kind
    /// Number of attacking sites.
    public var attackers: Int
    /// The attack's strength (see ``Kind``); nil: the kind's default.
    public var magnitude: Double?

    public init(kind: Kind, attackers: Int, magnitude: Double? = nil) {
        self.kind = kind
        self.attackers = attackers
        self.magnitude = magnitude
    }

    /// The magnitude in effect.
    public var effectiveMagnitude: Double { self.magnitude ?? self.kind.defaultMagnitude }

    public var description: String {
        let m = self.kind == .labelFlip ? "" : " × \(self.effectiveMagnitude)"
        return "\(self.kind.rawValue)\(m) by \(self.attackers) site\(self.attackers == 1 ? "" : "s")"
    }

    /// The attacking sites: `attackers` of `sites`, drawn from the seed only (sorted by name).
    public func chooseAttackers(among sites: [String], seed: UInt64) -> [String] {
        let names = sites.sorted()
        var rng = RandomSource(seed: seed).derived("attackers")
        return rng.permutation(names.count).prefix(min(self.attackers, names.count)).map { names[$0] }.sorted()
    }

    /// What an attacker sends instead of its honest update `delta` (label flipping sends it unchanged).
    ///
    /// - Parameters:
    ///   - seed: The job seed; noise is drawn from it, the site and the round.
    public func tamper(_ delta: [Float], site: String, round: Int, seed: UInt64) -> [Float] {
        var out = delta
        switch self.kind {
        case .signFlip:
            out.scale(by: -Float(self.effectiveMagnitude))
        case .scale:
            out.scale(by: Float(self.effectiveMagnitude))
        case .noise:
            var rng = RandomSource(seed: seed).derived("attack-noise", site, String(round))
            let sd = self.effectiveMagnitude
            for i in out.indices { out[i] = Float(rng.gaussian() * sd) }
        case .labelFlip:
            break
        }
        return out
    }

    /// Training data with every label flipped (class `c` becomes `classCount - 1 - c`).
    public static func flippingLabels(_ data: ExampleSet) -> ExampleSet {
        var flipped = data
        let top = Int32(data.classCount - 1)
        for i in flipped.labels.indices { flipped.labels[i] = top - flipped.labels[i] }
        return flipped
    }
}
