import ArgumentParser
import CohortPrivacy

/// `cohort privacy`: differential-privacy accounting for the Poisson-subsampled Gaussian mechanism.
struct Privacy: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Differential-privacy accounting: the epsilon a noise level spends, or the noise an epsilon needs.",
        discussion: """
            Both commands use the RDP accountant for the Poisson-subsampled Gaussian mechanism (add-or-remove-one \
            neighbours) with the improved RDP-to-(epsilon, delta) conversion; see docs/privacy.md.
            """,
        subcommands: [Epsilon.self, Calibrate.self])

    /// Which RDP orders to minimise over.
    enum OrderSet: String, ExpressibleByArgument, CaseIterable {
        case `default`
        case integer

        var orders: [Double] {
            switch self {
            case .default: RDPAccountant.defaultOrders
            case .integer: RDPAccountant.integerOrders
            }
        }
    }

    /// Options shared by both subcommands.
    struct Mechanism: ParsableArguments {
        @Option(help: "Probability that a record (or a site) takes part in a step, in (0, 1]; e.g. batch / examples.")
        var samplingRate: Double

        @Option(help: "Number of steps (noisy aggregations) composed, at least 1.")
        var steps: Int

        @Option(help: "Target delta, in (0, 1).")
        var delta: Double

        @Option(help: "RDP orders: default (dp-accounting's 156) or integer (2...64, 128, 256, 512, 1024).")
        var orders: OrderSet = .default

        @Flag(help: "Print one JSON object instead of text.")
        var json = false

        func check() throws {
            guard self.samplingRate.isFinite, self.samplingRate > 0, self.samplingRate <= 1 else {
                throw ValidationError(
                    "--sampling-rate \(self.samplingRate) must be in (0, 1], e.g. batch size / dataset size")
            }
            guard self.steps >= 1 else {
                throw ValidationError("--steps \(self.steps) must be at least 1")
            }
            guard self.delta.isFinite, self.delta > 0, self.delta < 1 else {
                throw ValidationError(
                    "--delta \(self.delta) must be in (0, 1), e.g. 1e-5 (below 1 / number of records)")
            }
        }
    }

    struct Epsilon: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the epsilon that a noise multiplier spends.")

        @Option(help: "Noise standard deviation divided by the L2 sensitivity (clip norm); positive.")
        var noiseMultiplier: Double

        @OptionGroup var mechanism: Mechanism

        func validate() throws {
            guard self.noiseMultiplier.isFinite, self.noiseMultiplier > 0 else {
                throw ValidationError(
                    "--noise-multiplier \(self.noiseMultiplier) must be positive (0 means no privacy)")
            }
            try self.mechanism.check()
        }

        func run() throws {
            let m = self.mechanism
            var accountant = RDPAccountant(orders: m.orders.orders)
            do {
                try accountant.compose(
                    noiseMultiplier: self.noiseMultiplier, samplingRate: m.samplingRate, steps: m.steps)
            } catch {
                throw ValidationError(error.description)
            }
            let (epsilon, order) = accountant.epsilon(delta: m.delta)
            if m.json {
                print(Privacy.json([
                    ("epsilon", Privacy.number(epsilon)), ("delta", Privacy.number(m.delta)),
                    ("noise_multiplier", Privacy.number(self.noiseMultiplier)),
                    ("sampling_rate", Privacy.number(m.samplingRate)), ("steps", "\(m.steps)"),
                    ("order", Privacy.number(order)),
                ]))
            } else {
                print("epsilon = \(Console.f(epsilon, 6)) at delta = \(m.delta) (optimal RDP order \(order))")
                print("noise multiplier \(self.noiseMultiplier), sampling rate \(m.samplingRate), \(m.steps) steps")
            }
        }
    }

    struct Calibrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the smallest noise multiplier that keeps epsilon at or below a target.")

        @Option(help: "Target epsilon, positive.")
        var epsilon: Double

        @OptionGroup var mechanism: Mechanism

        @Option(help: "Relative precision of the noise multiplier found.")
        var tolerance: Double = 1e-6

        func validate() throws {
            guard self.epsilon.isFinite, self.epsilon > 0 else {
                throw ValidationError("--epsilon \(self.epsilon) must be positive, e.g. 1 to 8")
            }
            guard self.tolerance > 0, self.tolerance <= 0.1 else {
                throw ValidationError("--tolerance \(self.tolerance) must be in (0, 0.1]")
            }
            try self.mechanism.check()
        }

        func run() throws {
            let m = self.mechanism
            let calibration: RDPAccountant.Calibration
            do {
                calibration = try RDPAccountant.noiseMultiplier(
                    forEpsilon: self.epsilon, delta: m.delta, samplingRate: m.samplingRate, steps: m.steps,
                    orders: m.orders.orders, tolerance: self.tolerance)
            } catch where error.code == .unreachableTarget {
                Console.error(error.description)
                throw ExitCode(1)
            } catch {
                throw ValidationError(error.description)
            }
            if m.json {
                print(Privacy.json([
                    ("epsilon", Privacy.number(self.epsilon)),
                    ("achieved_epsilon", Privacy.number(calibration.epsilon)),
                    ("delta", Privacy.number(m.delta)),
                    ("noise_multiplier", Privacy.number(calibration.noiseMultiplier)),
                    ("sampling_rate", Privacy.number(m.samplingRate)), ("steps", "\(m.steps)"),
                    ("order", Privacy.number(calibration.order)),
                ]))
            } else {
                print("noise multiplier = \(Console.f(calibration.noiseMultiplier, 6))")
                print("epsilon = \(Console.f(calibration.epsilon, 6)) <= \(self.epsilon) at delta = \(m.delta) "
                      + "(optimal RDP order \(calibration.order)); sampling rate \(m.samplingRate), \(m.steps) steps")
            }
        }
    }

    /// A JSON number (shortest round-trip form), or `null` when not finite.
    static func number(_ x: Double) -> String {
        x.isFinite ? "\(x)" : "null"
    }

    /// One JSON object with keys in the given order.
    static func json(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
    }
}
