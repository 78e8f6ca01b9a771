import CohortTensor

/// Scaling vectors down to a maximum L2 norm, which bounds each contribution's sensitivity.
///
/// A vector with norm `‖v‖ > C` is multiplied by `C / ‖v‖` (rounded down, so the result never exceeds `C` even by
/// an ulp); shorter vectors are unchanged. Norms are computed in
/// Float64 with ``CohortTensor/Vector`` kernels. A vector with a NaN or infinite element is set to zeros (scale 0)
/// and reported with its non-finite norm, so that it adds nothing rather than poisoning an aggregate.
public enum L2Clipping {
    /// Clips `v` in place to L2 norm at most `bound`.
    ///
    /// - Parameters:
    ///   - v: the vector.
    ///   - bound: the clip norm `C`, finite and `> 0` (a precondition).
    /// - Returns: the norm before clipping and the factor applied (1 when `‖v‖ ≤ C`).
    @discardableResult
    public static func clip(_ v: inout [Float], to bound: Float) -> (originalNorm: Double, scale: Float) {
        precondition(bound.isFinite && bound > 0, "clip norm \(bound) must be finite and positive")
        return v.withUnsafeMutableBufferPointer { Self.clip($0, to: bound) }
    }

    /// Clips each row of a row-major matrix (per-example gradients, `rows.count / rowLength` rows) to L2 norm at
    /// most `bound`.
    ///
    /// - Parameters:
    ///   - rows: the matrix, `rows.count` a multiple of `rowLength` (a precondition).
    ///   - rowLength: the length of one row, `> 0`.
    ///   - bound: the clip norm `C`, finite and `> 0`.
    /// - Returns: how many rows were scaled down (including non-finite rows set to zero).
    @discardableResult
    public static func clipRows(_ rows: inout [Float], rowLength: Int, to bound: Float) -> Int {
        precondition(bound.isFinite && bound > 0, "clip norm \(bound) must be finite and positive")
        precondition(rowLength > 0 && rows.count % rowLength == 0,
                     "\(rows.count) elements do not form rows of length \(rowLength)")
        var clipped = 0
        rows.withUnsafeMutableBufferPointer { all in
            var start = 0
            while start < all.count {
                let row = UnsafeMutableBufferPointer(rebasing: all[start..<start + rowLength])
                if Self.clip(row, to: bound).scale < 1 { clipped += 1 }
                start += rowLength
            }
        }
        return clipped
    }

    private static func clip(
        _ v: UnsafeMutableBufferPointer<Float>, to bound: Float
    ) -> (originalNorm: Double, scale: Float) {
        let norm = Vector.norm(UnsafeBufferPointer(v))
        guard norm.isFinite else {
            v.update(repeating: 0)
            return (norm, 0)
        }
        guard norm > Double(bound) else { return (norm, 1) }
        // Float rounding of the factor and of each product can leave the norm a few ulps above the bound; the
        // bound must hold exactly (it is the sensitivity), so shrink by one more ulp until it does.
        var scale = Float(Double(bound) / norm)
        Vector.scale(scale, v)
        var after = Vector.norm(UnsafeBufferPointer(v))
        while after > Double(bound) {
            let extra = Float(Double(bound) / after).nextDown
            Vector.scale(extra, v)
            scale *= extra
            after = Vector.norm(UnsafeBufferPointer(v))
        }
        return (norm, scale)
    }
}
