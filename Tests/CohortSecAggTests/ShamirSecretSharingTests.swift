import CohortSecAgg
import CohortTensor
import Testing

@Suite("Shamir secret sharing over GF(2^61 - 1)")
struct ShamirSecretSharingTests {
    func secret(_ seed: UInt64) -> [UInt8] {
        var rng = RandomSource(seed: seed)
        return (0..<32).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }

    @Test("any t of n shares reconstruct the secret")
    func reconstructs() throws {
        var rng = RandomSource(seed: 1)
        let s = self.secret(2)
        let shares = ShamirSecretSharing.split(s, threshold: 3, points: [1, 2, 3, 4, 5], using: &rng)
        for subset in [[0, 1, 2], [2, 3, 4], [0, 2, 4], [4, 1, 3]] {
            #expect(try ShamirSecretSharing.reconstruct(subset.map { shares[$0] }, threshold: 3) == s)
        }
        #expect(try ShamirSecretSharing.reconstruct(shares, threshold: 3) == s)
    }

    @Test("fewer than t shares are refused by the API and interpolate to a wrong value")
    func fewerThanThreshold() {
        var rng = RandomSource(seed: 3)
        for trial in 0..<50 {
            let s = self.secret(UInt64(100 + trial))
            let shares = ShamirSecretSharing.split(s, threshold: 4, points: [1, 2, 3, 4, 5, 6], using: &rng)
            #expect(throws: SecAggError(code: .belowThreshold, message: "")) {
                try ShamirSecretSharing.reconstruct(Array(shares.prefix(3)), threshold: 4)
            }
            // Interpolating three points of a degree-3 polynomial gives an unrelated value; pretending the threshold
            // is 3 is caught by the 32-bit chunk check (with overwhelming probability).
            let chunks = ShamirSecretSharing.interpolateAtZero(Array(shares.prefix(3)))
            #expect(chunks.contains { $0 >> 32 != 0 })
            #expect(throws: SecAggError.self) { try ShamirSecretSharing.reconstruct(Array(shares.prefix(3)), threshold: 3) }
        }
    }

    @Test("a share replaced by random field elements is detected (with probability 1 - 2^-29 per element)")
    func corrupted() {
        var rng = RandomSource(seed: 4)
        var shares = ShamirSecretSharing.split(self.secret(5), threshold: 3, points: [1, 2, 3], using: &rng)
        for trial in 0..<20 {
            var bad = shares
            bad[trial % 3].y[trial % 8] = (rng.next() >> 3) % ShamirSecretSharing.prime
            #expect(throws: SecAggError(code: .reconstructionFailed, message: "")) {
                try ShamirSecretSharing.reconstruct(bad, threshold: 3)
            }
        }
        shares[1].y[0] = ShamirSecretSharing.prime  // outside the field
        #expect(throws: SecAggError(code: .malformedShare, message: "")) { try ShamirSecretSharing.reconstruct(shares, threshold: 3) }
    }

    @Test("a threshold of 1 shares the secret itself; the largest chunk values survive the field")
    func edgeCases() throws {
        var rng = RandomSource(seed: 6)
        let s = [UInt8](repeating: 0xFF, count: 32)
        let shares = ShamirSecretSharing.split(s, threshold: 1, points: [7, 9], using: &rng)
        #expect(try ShamirSecretSharing.reconstruct([shares[1]], threshold: 1) == s)
        let wide = ShamirSecretSharing.split(s, threshold: 5, points: Array(1...9), using: &rng)
        #expect(try ShamirSecretSharing.reconstruct(Array(wide.suffix(5)), threshold: 5) == s)
    }
}
