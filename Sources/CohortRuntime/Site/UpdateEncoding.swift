public import CohortCompression
public import CohortModel
public import CohortStrategy
public import CohortTensor

/// The upload format of a site's update, shared by simulated and networked sites so both send the same bits.
///
/// The payload is the model delta, followed by SCAFFOLD's control-variate change when there is one. With a codec,
/// the payload plus the site's residual (error feedback, kept at the site) is encoded with randomness drawn from
/// the job seed, the site and the round; the coordinator decodes what it receives and aggregates that.
public enum UpdateEncoding {
    /// The vector a site uploads for an update.
    public static func payload(of update: SiteUpdate) -> [Float] {
        update.controlDelta.map { update.delta + $0 } ?? update.delta
    }

    /// The update with its payload replaced by `decoded` (as the coordinator reconstructs it).
    public static func replacingPayload(of update: SiteUpdate, with decoded: [Float]) -> SiteUpdate {
        var u = update
        if update.controlDelta != nil {
            let half = decoded.count / 2
            u.delta = Array(decoded[..<half])
            u.controlDelta = Array(decoded[half...])
        } else {
            u.delta = decoded
        }
        return u
    }

    /// The randomness of a site's stochastic rounding in a round.
    public static func randomness(seed: UInt64, site: String, round: Int) -> RandomSource {
        RandomSource(seed: seed).derived("compress", site, String(round))
    }

    /// Encodes a site's payload, updating its residual.
    public static func encode(
        _ payload: [Float], codec: CodecSpec, residual: inout ErrorFeedback?, seed: UInt64, site: String, round: Int
    ) throws(SiteFailure) -> EncodedUpdate {
        var rng = Self.randomness(seed: seed, site: site, round: round)
        do {
            return try UpdateCodec.encode(payload, spec: codec, rng: &rng, feedback: &residual)
        } catch {
            throw SiteFailure(site: site, code: .failed, message: "cannot encode the update with \(codec): \(error)")
        }
    }

    /// Decodes an update received as `bytes`, which must hold `count` values.
    public static func decode(_ bytes: [UInt8], count: Int, site: String) throws(SiteFailure) -> [Float] {
        do {
            return try UpdateCodec.decode(bytes, expectedCount: count)
        } catch {
            throw SiteFailure(site: site, code: .rejected, message: "the encoded update cannot be decoded: \(error)")
        }
    }
}
