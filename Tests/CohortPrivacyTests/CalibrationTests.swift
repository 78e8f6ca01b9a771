import CohortPrivacy
import Testing

@Suite("Noise calibration")
struct CalibrationTests {
    @Test("calibrating to each row's epsilon recovers its noise multiplier and reproduces the epsilon", arguments: Vectors.rows)
    func roundTrip(row: Vectors.Row) throws {
        let calibration = try RDPAccountant.noiseMultiplier(
            forEpsilon: row.signedEpsilon, delta: Vectors.delta, samplingRate: row.q, steps: row.steps)
        #expect(calibration.epsilon <= row.signedEpsilon)
        #expect(isClose(calibration.epsilon, row.signedEpsilon, relative: 1e-5), "achieved ε = \(calibration.epsilon)")
        // The table's ε is rounded to 6 decimals, so σ is recovered to about that precision.
        #expect(isClose(calibration.noiseMultiplier, row.sigma, relative: 1e-5), "σ = \(calibration.noiseMultiplier)")
        #expect(abs(calibration.order - row.dpAccountingOrder) < 1e-9)
        // The reported ε is what an accountant computes for the reported σ.
        var accountant = RDPAccountant()
        try accountant.compose(noiseMultiplier: calibration.noiseMultiplier, samplingRate: row.q, steps: row.steps)
        #expect(accountant.epsilon(delta: Vectors.delta).epsilon == calibration.epsilon)
    }

    @Test("the result is minimal within the tolerance: slightly less noise exceeds the target")
    func minimal() throws {
        let tolerance = 1e-4
        let c = try RDPAccountant.noiseMultiplier(forEpsilon: 3, delta: 1e-6, samplingRate: 0.02, steps: 2000,
                                                   tolerance: tolerance)
        var accountant = RDPAccountant()
        try accountant.compose(noiseMultiplier: c.noiseMultiplier * (1 - tolerance), samplingRate: 0.02, steps: 2000)
        #expect(c.epsilon <= 3)
        #expect(accountant.epsilon(delta: 1e-6).epsilon > 3)
    }

    @Test("integer orders need at least as much noise as the default orders")
    func integerOrders() throws {
        let byDefault = try RDPAccountant.noiseMultiplier(forEpsilon: 2, delta: 1e-5, samplingRate: 0.01, steps: 1000)
        let byInteger = try RDPAccountant.noiseMultiplier(forEpsilon: 2, delta: 1e-5, samplingRate: 0.01, steps: 1000,
                                                           orders: RDPAccountant.integerOrders)
        #expect(byInteger.noiseMultiplier >= byDefault.noiseMultiplier)
        #expect(byInteger.order.rounded() == byInteger.order)
    }

    @Test("invalid inputs are refused with invalidArgument",
          arguments: [(1.0, 1e-5, 0.0, 10), (1.0, 1e-5, 1.5, 10), (1.0, 1e-5, -0.1, 10), (1.0, 1e-5, 0.1, 0),
                      (1.0, 0.0, 0.1, 10), (1.0, 1.0, 0.1, 10), (1.0, -1e-5, 0.1, 10), (0.0, 1e-5, 0.1, 10),
                      (-1.0, 1e-5, 0.1, 10), (.nan, 1e-5, 0.1, 10), (.infinity, 1e-5, 0.1, 10)])
    func invalid(epsilon: Double, delta: Double, q: Double, steps: Int) {
        #expect(throws: PrivacyError(.invalidArgument, "")) {
            try RDPAccountant.noiseMultiplier(forEpsilon: epsilon, delta: delta, samplingRate: q, steps: steps)
        }
    }

    @Test("a target that needs more than the maximum noise multiplier is unreachable, and the message says why")
    func unreachable() throws {
        let error = try #require(throws: PrivacyError.self) {
            try RDPAccountant.noiseMultiplier(forEpsilon: 1e-6, delta: 1e-5, samplingRate: 1, steps: 1000)
        }
        #expect(error.code == .unreachableTarget)
        #expect(error.description.contains("raise epsilon or delta"))
        #expect(throws: PrivacyError(.invalidArgument, "")) {
            try RDPAccountant.noiseMultiplier(forEpsilon: 1, delta: 1e-5, samplingRate: 0.1, steps: 10, tolerance: 0)
        }
    }
}
