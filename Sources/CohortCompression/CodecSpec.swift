/// How a site encodes its model update for upload: which entries are sent, how their values are represented, and
/// whether the encoded bytes are deflated.
///
/// A spec is one of three shapes, each optionally wrapped by ``lossless(inner:)``:
/// - ``dense``: every entry as Float32 (exact);
/// - ``quantized(bits:stochastic:blockSize:)``: every entry quantised to 8 or 4 bits per value, per block of
///   values with the block's minimum and maximum, with unbiased stochastic rounding;
/// - ``topK(fraction:quantization:)``: only the largest-magnitude entries, with their indices, as Float32 or
///   quantised values, with error feedback at the site (``ErrorFeedback``).
///
/// Specs are written as short strings in job configuration (``init(parsing:)``, ``description``), and `Codable`
/// uses the same string. The grammar:
/// ```
/// spec     = core [ "+deflate" ]
/// core     = "dense" | quant | "topk:" fraction [ "+" quant ]
/// quant    = ( "q8" | "q4" ) [ "(" option { "," option } ")" ]
/// option   = "block=" integer        ; values per min/max block, a multiple of 16 in 16...65536 (default 256)
///          | "nearest"               ; round to the nearest level instead of stochastically (biased)
/// fraction = decimal in (0, 1]       ; k = max(1, round(fraction * count)) entries are sent
/// ```
/// For example `q8`, `q4(block=64)`, `topk:0.01`, `q8+deflate`, `topk:0.01+q8+deflate`. Parsing ignores case and
/// surrounding spaces; ``description`` gives the canonical form, which parses back to the same spec.
public struct CodecSpec: Sendable, Hashable {
    /// Quantisation of the values that are sent: `bits` per value, with a Float32 minimum and maximum per block.
    public struct Quantization: Sendable, Hashable {
        /// Bits per value: 8 (255 steps between a block's minimum and maximum) or 4 (15 steps).
        public let bits: Int
        /// Whether rounding is stochastic and unbiased (`E[decoded] = value`) rather than to the nearest level.
        public let isStochastic: Bool
        /// Values per block sharing one minimum and maximum.
        public let blockSize: Int

        /// The default block size.
        public static let defaultBlockSize = 256

        /// Creates a quantisation; ``CodecSpec/validate()`` checks the parameters.
        public init(bits: Int, stochastic: Bool = true, blockSize: Int = Quantization.defaultBlockSize) {
            self.bits = bits
            self.isStochastic = stochastic
            self.blockSize = blockSize
        }

        /// The number of steps between a block's minimum and maximum (`2^bits - 1`).
        public var levels: Int { (1 << self.bits) - 1 }
    }

    /// The fraction of entries sent, largest magnitudes first; `nil` sends every entry.
    public let topKFraction: Double?
    /// How sent values are quantised; `nil` sends them as Float32.
    public let quantization: Quantization?
    /// Whether the encoded payload is deflated (kept only when that makes it smaller).
    public let isLossless: Bool

    init(topKFraction: Double?, quantization: Quantization?, isLossless: Bool) {
        self.topKFraction = topKFraction
        self.quantization = quantization
        self.isLossless = isLossless
    }

    /// Every entry as Float32: exact, 4 bytes per value.
    public static let dense = CodecSpec(topKFraction: nil, quantization: nil, isLossless: false)

    /// Every entry quantised to `bits` (8 or 4) per value, per block of `blockSize` values.
    public static func quantized(
        bits: Int, stochastic: Bool = true, blockSize: Int = Quantization.defaultBlockSize
    ) -> CodecSpec {
        CodecSpec(
            topKFraction: nil, quantization: Quantization(bits: bits, stochastic: stochastic, blockSize: blockSize),
            isLossless: false)
    }

    /// The `fraction` of entries with the largest magnitude (after adding the site's residual), with their indices;
    /// values as Float32, or quantised when `quantization` is given.
    public static func topK(fraction: Double, quantization: Quantization? = nil) -> CodecSpec {
        CodecSpec(topKFraction: fraction, quantization: quantization, isLossless: false)
    }

    /// `inner`, with its encoded payload deflated (zlib).
    public static func lossless(inner: CodecSpec) -> CodecSpec {
        CodecSpec(topKFraction: inner.topKFraction, quantization: inner.quantization, isLossless: true)
    }

    /// The same spec without the lossless layer.
    public var withoutLossless: CodecSpec {
        CodecSpec(topKFraction: self.topKFraction, quantization: self.quantization, isLossless: false)
    }

    /// Whether only some entries are sent (top-k), so that the site should keep ``ErrorFeedback``.
    public var isSparse: Bool { self.topKFraction != nil }

    /// The number of entries sent for a vector of `count` values: `count`, or for top-k
    /// `min(count, max(1, round(fraction * count)))` (0 for an empty vector).
    public func sentCount(of count: Int) -> Int {
        guard let fraction = self.topKFraction, count > 0 else { return count }
        let k = (fraction * Double(count)).rounded()
        return k >= Double(count) ? count : max(1, Int(k))
    }

    /// Checks the parameters: a top-k fraction in (0, 1], 8 or 4 bits, and a block size that is a multiple of 16 in
    /// 16...65536.
    public func validate() throws(CompressionError) {
        if let f = self.topKFraction, !(f > 0 && f <= 1) {
            throw CompressionError(.invalidSpec, "top-k fraction \(f) is not in (0, 1]")
        }
        if let q = self.quantization {
            guard q.bits == 8 || q.bits == 4 else {
                throw CompressionError(.invalidSpec, "quantisation to \(q.bits) bits is not supported (8 or 4)")
            }
            guard (16...65536).contains(q.blockSize), q.blockSize % 16 == 0 else {
                throw CompressionError(
                    .invalidSpec, "block size \(q.blockSize) is not a multiple of 16 in 16...65536")
            }
        }
    }
}
