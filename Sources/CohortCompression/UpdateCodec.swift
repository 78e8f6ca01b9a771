public import CohortTensor
import NIOCore

/// Encodes model updates at the site and decodes them at the coordinator, before aggregation.
///
/// ## Usage
/// ```swift
/// let spec = try CodecSpec(parsing: "topk:0.01+q8+deflate")
/// var rng = jobRandom.derived("compress", site, "round:\(round)")
/// var feedback: ErrorFeedback? = store.feedback(for: job)         // nil in the first round
/// let encoded = try UpdateCodec.encode(delta, spec: spec, rng: &rng, feedback: &feedback)
/// store.keep(feedback, for: job)                                  // stays at the site
/// upload(encoded.bytes); report(encoded.stats)
/// // coordinator:
/// let delta = try UpdateCodec.decode(bytes, expectedCount: model.parameterCount)
/// ```
/// Encoding is deterministic: the same update, spec, residual and generator state give the same bytes on every
/// platform. The bytes are self-describing (``UpdateHeader``), so the coordinator needs no spec to decode them.
public enum UpdateCodec {
    /// Encodes `update` as `spec` says.
    ///
    /// With error feedback, `update + residual` is encoded and `feedback` is replaced by what was not sent, so that
    /// `update + old residual == decoded + new residual`. Feedback applies whenever `feedback` is non-nil; when it is
    /// nil and the spec is top-k, a zero residual is created and returned in `feedback` (so nil is right for the
    /// first round). Without feedback, a top-k encoding simply drops the entries it does not send. Nothing changes
    /// (neither `rng` nor `feedback`) when it throws.
    ///
    /// - Parameters:
    ///   - update: The update vector (e.g. the model delta), finite values.
    ///   - spec: The codec.
    ///   - rng: The source of stochastic rounding; derive it per site and round.
    ///   - feedback: The site's residual from earlier rounds, updated in place.
    /// - Throws: ``CompressionError``: `invalidSpec`, or `invalidInput` for a non-finite value (or, when quantised,
    ///   a magnitude of 2^126 or more), feedback of another length, or more than 2^32 - 1 elements.
    public static func encode(
        _ update: [Float], spec: CodecSpec, rng: inout RandomSource, feedback: inout ErrorFeedback?
    ) throws(CompressionError) -> EncodedUpdate {
        try spec.validate()
        let n = update.count
        guard n <= UpdateHeader.maximumCount else {
            throw CompressionError(.invalidInput, "\(n) elements exceed the format's limit of 2^32 - 1")
        }
        if let feedback, feedback.count != n {
            throw CompressionError(.invalidInput, "error feedback has \(feedback.count) elements, the update \(n)")
        }
        let withFeedback = feedback != nil || spec.isSparse
        // With feedback, `target` becomes the new residual in place; without, it is the caller's array, unchanged.
        var target = update
        if let feedback {
            target.withUnsafeMutableBufferPointer { t in
                feedback.residual.withUnsafeBufferPointer { r in Vector.axpy(1, r, t) }
            }
        }
        try Self.checkRange(target, quantized: spec.quantization != nil, withFeedback: feedback != nil)
        var bytes: [UInt8]
        if withFeedback {
            bytes = target.withUnsafeMutableBufferPointer { t in
                Self.encodeUncompressed(t, spec: spec, rng: &rng, updateResidual: true)
            }
        } else {
            // Nothing is written through the pointer without feedback, so the caller's array is not copied.
            bytes = update.withUnsafeBufferPointer { u in
                Self.encodeUncompressed(
                    UnsafeMutableBufferPointer(mutating: u), spec: spec, rng: &rng, updateResidual: false)
            }
        }
        if withFeedback { feedback = ErrorFeedback(residual: target) }
        let before = bytes.count
        if spec.isLossless { bytes = Self.deflated(bytes) ?? bytes }
        let stats = CompressionStats(
            count: n, sentCount: spec.sentCount(of: n), denseBytes: 4 * n, encodedBytes: bytes.count,
            bytesBeforeDeflate: before)
        return EncodedUpdate(bytes: bytes, stats: stats)
    }

    /// Encodes `update` without error feedback (a top-k encoding drops what it does not send).
    public static func encode(
        _ update: [Float], spec: CodecSpec, rng: inout RandomSource
    ) throws(CompressionError) -> EncodedUpdate {
        var discarded: ErrorFeedback?
        return try Self.encode(update, spec: spec, rng: &rng, feedback: &discarded)
    }

    private static func checkRange(_ x: [Float], quantized: Bool, withFeedback: Bool) throws(CompressionError) {
        let ok = x.withUnsafeBufferPointer { quantized ? BlockQuantizer.inRange($0) : Vector.allFinite($0) }
        guard !ok else { return }
        let bad =
            x.firstIndex {
                quantized ? !($0.bitPattern & 0x7FFF_FFFF < BlockQuantizer.magnitudeLimitBits) : !$0.isFinite
            } ?? 0
        let what = withFeedback ? "update + residual" : "update"
        throw CompressionError(
            .invalidInput,
            "\(what) element \(bad) is \(x[bad]): "
                + (quantized ? "quantisation needs finite values below 2^126 in magnitude" : "values must be finite"))
    }

    /// Header and payload without deflate; with `updateResidual`, `target` is left holding the new residual.
    private static func encodeUncompressed(
        _ target: UnsafeMutableBufferPointer<Float>, spec: CodecSpec, rng: inout RandomSource, updateResidual: Bool
    ) -> [UInt8] {
        let n = target.count
        let k = spec.sentCount(of: n)
        let bits = spec.quantization?.bits ?? 32
        let block = spec.quantization?.blockSize ?? 0
        let valuesBytes = UpdateHeader.valuesBytes(count: k, bits: bits, blockSize: block)
        // Sparse: select, gather the values, and choose the smaller index encoding.
        var indices = [UInt32]()
        var values = [Float]()
        var bitmap = false
        var indexBytes = 0
        if spec.isSparse {
            indices = [UInt32](unsafeUninitializedCapacity: k + TopKSelector.slack) { buf, count in
                TopKSelector.select(UnsafeBufferPointer(target), k: k, into: buf)
                count = k
            }
            values = indices.map { target[Int($0)] }
            let varints = indices.withUnsafeBufferPointer { IndexCoding.varintBytes($0) }
            bitmap = IndexCoding.bitmapBytes(count: n) < varints
            indexBytes = bitmap ? IndexCoding.bitmapBytes(count: n) : varints
        }
        let header = UpdateHeader(
            isSparse: spec.isSparse, isDeflated: false, hasBytePlanes: false, hasBitmapIndices: bitmap,
            valueBits: bits, count: n, sentCount: k, blockSize: block, payloadBytes: valuesBytes + indexBytes)
        let total = UpdateHeader.byteCount + valuesBytes + indexBytes
        return [UInt8](unsafeUninitializedCapacity: total) { buf, count in
            let raw = UnsafeMutableRawBufferPointer(buf)
            header.write(to: raw)
            let valuesEnd = UpdateHeader.byteCount + valuesBytes
            let valuesOut = UnsafeMutableRawBufferPointer(rebasing: raw[UpdateHeader.byteCount..<valuesEnd])
            if !spec.isSparse {
                Self.writeValues(target, spec: spec, rng: &rng, into: valuesOut, updateResidual: updateResidual)
            } else {
                values.withUnsafeMutableBufferPointer { v in
                    Self.writeValues(v, spec: spec, rng: &rng, into: valuesOut, updateResidual: updateResidual)
                }
                let indexOut = UnsafeMutableRawBufferPointer(rebasing: raw[valuesEnd..<total])
                indices.withUnsafeBufferPointer { idx in
                    if bitmap {
                        IndexCoding.writeBitmap(idx, into: indexOut)
                    } else {
                        IndexCoding.writeVarints(idx, into: indexOut)
                    }
                    if updateResidual {
                        // `values` now holds what was not sent of each sent entry (0 for Float32 values).
                        for (j, i) in idx.enumerated() { target[Int(i)] = values[j] }
                    }
                }
            }
            count = total
        }
    }

    /// Writes the values section for `sent`; with `updateResidual`, replaces each value by `value - decoded`.
    private static func writeValues(
        _ sent: UnsafeMutableBufferPointer<Float>, spec: CodecSpec, rng: inout RandomSource,
        into out: UnsafeMutableRawBufferPointer, updateResidual: Bool
    ) {
        guard let q = spec.quantization else {
            if !sent.isEmpty { out.copyMemory(from: UnsafeRawBufferPointer(sent)) }
            if updateResidual { sent.update(repeating: 0) }
            return
        }
        guard updateResidual else {
            BlockQuantizer.encode(
                UnsafeBufferPointer(sent), bits: q.bits, blockSize: q.blockSize, stochastic: q.isStochastic, rng: &rng,
                into: out, decoded: nil)
            return
        }
        var decoded = [Float](unsafeUninitializedCapacity: sent.count) { buf, count in
            BlockQuantizer.encode(
                UnsafeBufferPointer(sent), bits: q.bits, blockSize: q.blockSize, stochastic: q.isStochastic, rng: &rng,
                into: out, decoded: buf)
            count = sent.count
        }
        decoded.withUnsafeMutableBufferPointer { d in
            // residual = value - decoded, 16 lanes at a time.
            let ps = UnsafeMutableRawPointer(sent.baseAddress), pd = UnsafeRawPointer(d.baseAddress)
            var i = 0
            while i + 16 <= d.count {
                Lanes.store(Lanes.load(UnsafeRawPointer(ps), i) - Lanes.load(pd, i), ps, i)
                i += 16
            }
            while i < d.count {
                sent[i] -= d[i]
                i += 1
            }
        }
    }

    /// The same update with its payload deflated (dense Float32 split into byte planes first); nil if not smaller.
    private static func deflated(_ bytes: [UInt8]) -> [UInt8]? {
        bytes.withUnsafeBytes { raw -> [UInt8]? in
            guard var header = try? UpdateHeader(parsing: raw) else { return nil }
            let payload = UnsafeRawBufferPointer(rebasing: raw[UpdateHeader.byteCount...])
            let planes = !header.isSparse && header.valueBits == 32
            var input = ByteBufferAllocator().buffer(capacity: payload.count)
            if planes {
                input.writeWithUnsafeMutableBytes(minimumWritableBytes: payload.count) { dst in
                    Deflate.splitPlanes(payload.baseAddress!, count: header.count, into: dst.baseAddress!)
                    return payload.count
                }
            } else {
                input.writeBytes(payload)
            }
            guard let compressed = Deflate.compress(&input) else { return nil }
            header.isDeflated = true
            header.hasBytePlanes = planes
            let total = UpdateHeader.byteCount + compressed.readableBytes
            return [UInt8](unsafeUninitializedCapacity: total) { buf, count in
                let out = UnsafeMutableRawBufferPointer(buf)
                header.write(to: out)
                compressed.withUnsafeReadableBytes { src in
                    UnsafeMutableRawBufferPointer(rebasing: out[UpdateHeader.byteCount..<total]).copyMemory(from: src)
                }
                count = total
            }
        }
    }
}
