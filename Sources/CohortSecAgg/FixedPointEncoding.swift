/// The fixed-point encoding of a Float vector into integers modulo `2^modulusBits`.
///
/// A value `x` with weight `w` becomes `q = round(w · clamp(x, -c, c) · 2^scaleBits)`, rounded once (ties to even)
/// in Float64, and is stored as `q mod 2^modulusBits` (two's complement). The weight itself, when appended, becomes
/// `round(w · 2^scaleBits)`. The sum of such integers over clients decodes exactly as long as it stays inside
/// `(-2^(modulusBits-1), 2^(modulusBits-1))`; ``SecAggConfiguration/validate()`` checks that this holds for every
/// possible input, so the aggregate cannot wrap.
///
/// Distributed differential privacy: add the noise to the Float vector *before* it is encoded (the caller does it),
/// and choose `clipRange` so that clipped update plus noise still fits: values beyond `±clipRange` are clamped,
/// which would bias the noise.
public struct FixedPointEncoding: Codable, Sendable, Hashable {
    /// The clip range `c`: inputs are clamped to `[-c, c]` before scaling.
    public var clipRange: Double
    /// Fraction bits: the resolution is `2^-scaleBits`.
    public var scaleBits: Int
    /// The largest weight a client may use (weights lie in `[0, maxWeight]`). 1 for unweighted sums.
    public var maxWeight: Double

    /// Creates an encoding.
    public init(clipRange: Double = 8, scaleBits: Int = 16, maxWeight: Double = 1) {
        self.clipRange = clipRange
        self.scaleBits = scaleBits
        self.maxWeight = maxWeight
    }

    /// `2^scaleBits`.
    public var scale: Double { Double(sign: .plus, exponent: self.scaleBits, significand: 1) }

    /// The largest magnitude of one encoded element (value or weight) for the given weight setting.
    public func maximumMagnitude(appendsWeight: Bool) -> Double {
        (self.maxWeight * max(self.clipRange, appendsWeight ? 1 : 0) * self.scale).rounded(.up)
    }

    /// The integer `round(w · clamp(x, -c, c) · 2^scaleBits)` for each element (the exact value the aggregate sums).
    public func quantize(_ input: [Float], weight: Double) -> [Int64] {
        let factor = weight * self.scale
        let c = self.clipRange
        return input.map { Int64((min(max(Double($0), -c), c) * factor).rounded(.toNearestOrEven)) }
    }

    /// The integer `round(w · 2^scaleBits)` that encodes a weight.
    public func quantizeWeight(_ weight: Double) -> Int64 {
        Int64((weight * self.scale).rounded(.toNearestOrEven))
    }

    /// Encodes `input` (and the weight when `appendsWeight`) into words modulo `2^modulusBits`.
    func encode(_ input: [Float], weight: Double, appendsWeight: Bool, modulusMask: UInt64) -> [UInt64] {
        var words = [UInt64](repeating: 0, count: input.count + (appendsWeight ? 1 : 0))
        let factor = weight * self.scale
        let c = self.clipRange
        words.withUnsafeMutableBufferPointer { out in
            input.withUnsafeBufferPointer { x in
                for i in 0..<x.count {
                    let q = Int64((min(max(Double(x[i]), -c), c) * factor).rounded(.toNearestOrEven))
                    out[i] = UInt64(bitPattern: q) & modulusMask
                }
            }
            if appendsWeight { out[input.count] = UInt64(bitPattern: self.quantizeWeight(weight)) & modulusMask }
        }
        return words
    }

    /// Interprets words modulo `2^modulusBits` as signed integers in `[-2^(modulusBits-1), 2^(modulusBits-1))`.
    static func signedIntegers(_ words: [UInt64], modulusBits: Int) -> [Int64] {
        if modulusBits == 64 { return words.map { Int64(bitPattern: $0) } }
        let half = UInt64(1) << (modulusBits - 1)
        let modulus = UInt64(1) << modulusBits
        return words.map { $0 >= half ? -Int64(modulus - $0) : Int64($0) }
    }
}
