import CohortTensor

/// The part of past updates that a site has not sent yet (error feedback, or "memory": Stich, Cordonnier and Jaggi,
/// "Sparsified SGD with Memory", NeurIPS 2018; Aji and Heafield 2017).
///
/// Encoding with feedback compresses `update + residual` and keeps what was not sent as the new residual, so
/// `update + old residual == decoded + new residual` for every entry. Over many rounds every coordinate is sent
/// eventually and the sum of decoded updates tracks the sum of true updates within the (bounded) residual.
///
/// The residual stays **at the site**: it is the site's own un-sent gradient signal and is never uploaded. The caller
/// keeps one per job between rounds (``serialized()`` and ``init(serialized:count:)`` persist it compactly) and must
/// start a new one if the model shape changes. See docs/compression.md for how this interacts with differential
/// privacy.
public struct ErrorFeedback: Sendable, Hashable, Codable {
    /// What has not been sent yet, one value per element of the update.
    public internal(set) var residual: [Float]

    /// Feedback with a zero residual for updates of `count` elements.
    public init(count: Int) {
        self.residual = [Float](repeating: 0, count: count)
    }

    /// Feedback with the given residual.
    public init(residual: [Float]) {
        self.residual = residual
    }

    /// Elements of the update this feedback belongs to.
    public var count: Int { self.residual.count }

    /// Euclidean norm of the residual, in Float64.
    public var norm: Double {
        self.residual.withUnsafeBufferPointer { p in
            var s = 0.0
            for v in p { s += Double(v) * Double(v) }
            return s.squareRoot()
        }
    }

    /// The residual as a compact byte string (the dense update format, deflated when that helps).
    public func serialized() -> [UInt8] {
        var rng = RandomSource(seed: 0)
        var none: ErrorFeedback?
        // Dense Float32 consumes no randomness and the residual is finite, so this cannot fail.
        return
            (try? UpdateCodec.encode(self.residual, spec: .lossless(inner: .dense), rng: &rng, feedback: &none).bytes)
            ?? []
    }

    /// Reads a residual written by ``serialized()``.
    ///
    /// - Throws: ``CompressionError`` if the bytes are malformed or hold another number of elements.
    public init(serialized bytes: [UInt8], count: Int) throws(CompressionError) {
        self.residual = try UpdateCodec.decode(bytes, expectedCount: count)
    }
}
