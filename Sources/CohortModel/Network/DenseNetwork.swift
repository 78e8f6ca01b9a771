public import CohortTensor

/// A feed-forward network of dense layers with hand-written forward and backward passes.
///
/// Logistic regression (one linear layer, sigmoid output), softmax regression (one linear layer, softmax output) and
/// MLPs (hidden layers with ReLU or tanh) share this one implementation. Binary outcomes use a single logit with
/// binary cross-entropy, several classes use softmax cross-entropy; both are computed from logits in the numerically
/// stable form.
public struct DenseNetwork: Sendable, Hashable {
    public let spec: ModelSpec
    public let layout: ParameterLayout
    @usableFromInline let widths: [Int]
    /// Offsets of each layer's weight and bias in the flat parameter vector.
    @usableFromInline let weightOffsets: [Int]
    @usableFromInline let biasOffsets: [Int]

    public init(_ spec: ModelSpec) throws(ModelError) {
        try spec.validate()
        self.spec = spec
        self.layout = spec.layout
        self.widths = spec.widths
        var wo = [Int](), bo = [Int]()
        for e in self.layout.entries {
            if e.name.hasSuffix("weight") { wo.append(e.offset) } else { bo.append(e.offset) }
        }
        self.weightOffsets = wo
        self.biasOffsets = bo
    }

    /// Number of layers.
    public var layerCount: Int { self.widths.count - 1 }

    /// Whether the output is one logit (binary outcome).
    public var isBinary: Bool { self.spec.outputCount == 1 }

    /// Initial parameters: zeros for linear models (the loss is convex), He-uniform weights for ReLU layers and
    /// Glorot-uniform for tanh and output layers, zero biases.
    public func initialParameters(rng: inout RandomSource) -> ModelParameters {
        var p = ModelParameters(zeros: self.layout)
        guard self.layerCount > 1 else { return p }
        for l in 0..<self.layerCount {
            let fanIn = self.widths[l], fanOut = self.widths[l + 1]
            let isOutput = l == self.layerCount - 1
            let bound: Double =
                (!isOutput && self.spec.activation == .relu)
                ? (6.0 / Double(fanIn)).squareRoot()
                : (6.0 / Double(fanIn + fanOut)).squareRoot()
            for i in 0..<(fanIn * fanOut) {
                p.flat[self.weightOffsets[l] + i] = Float(rng.uniform(-bound, bound))
            }
        }
        return p
    }

    /// Scratch buffers for one batch size; reuse across steps to avoid allocation.
    public final class Workspace {
        let capacity: Int
        /// Pre-activations and activations per layer (`activations[0]` is unused: the input is read in place).
        var pre: [UnsafeMutablePointer<Float>]
        var post: [UnsafeMutablePointer<Float>]
        var delta: [UnsafeMutablePointer<Float>]

        public init(network: DenseNetwork, batchCapacity: Int) {
            self.capacity = batchCapacity
            self.pre = network.widths.map { UnsafeMutablePointer<Float>.allocate(capacity: max(1, $0 * batchCapacity)) }
            self.post = network.widths.map { UnsafeMutablePointer<Float>.allocate(capacity: max(1, $0 * batchCapacity)) }
            self.delta = network.widths.map { UnsafeMutablePointer<Float>.allocate(capacity: max(1, $0 * batchCapacity)) }
        }

        deinit {
            for p in self.pre { p.deallocate() }
            for p in self.post { p.deallocate() }
            for p in self.delta { p.deallocate() }
        }
    }

    /// Runs the forward pass; afterwards `ws.pre[L]` holds the output logits (`batch x outputCount`).
    func forward(
        _ params: UnsafePointer<Float>, x: UnsafePointer<Float>, batch: Int, ws: Workspace, threads: Int
    ) {
        var input = x
        for l in 0..<self.layerCount {
            let nin = self.widths[l], nout = self.widths[l + 1]
            let z = ws.pre[l + 1]
            // Z = A · Wᵀ + b
            let bias = params + self.biasOffsets[l]
            for r in 0..<batch {
                (z + r * nout).update(from: bias, count: nout)
            }
            GEMM.multiply(
                .none, .transpose, m: batch, n: nout, k: nin,
                a: input, lda: nin, b: params + self.weightOffsets[l], ldb: nin,
                beta: 1, c: z, ldc: nout, threads: threads
            )
            if l < self.layerCount - 1 {
                let a = ws.post[l + 1]
                let n = batch * nout
                switch self.spec.activation {
                case .relu:
                    for i in 0..<n { a[i] = max(z[i], 0) }
                case .tanh:
                    for i in 0..<n { a[i] = Float(Math.tanh(Double(z[i]))) }
                }
                input = UnsafePointer(a)
            }
        }
    }

    /// Mean loss over a batch and its gradient (overwriting `grad`).
    ///
    /// - Returns: the mean weighted cross-entropy plus the L2 penalty.
    public func lossAndGradient(
        parameters params: UnsafeBufferPointer<Float>,
        features x: UnsafePointer<Float>, labels y: UnsafePointer<Int32>, batch: Int,
        loss: LossConfig, gradient grad: UnsafeMutableBufferPointer<Float>, workspace ws: Workspace,
        threads: Int = 1
    ) -> Double {
        precondition(batch <= ws.capacity, "batch \(batch) exceeds workspace capacity \(ws.capacity)")
        let p = params.baseAddress!
        self.forward(p, x: x, batch: batch, ws: ws, threads: threads)
        let total = self.outputDelta(labels: y, batch: batch, loss: loss, scale: 1 / Float(batch), ws: ws)
        self.propagateDeltas(p, batch: batch, ws: ws, threads: threads)
        self.accumulateGradients(x: x, batch: batch, gradient: grad.baseAddress!, ws: ws, threads: threads)
        return total / Double(batch) + self.addL2(params, loss: loss, gradient: grad)
    }

    /// The sum over a batch of each example's gradient clipped to L2 norm `clip` (DP-SGD, Abadi et al., "Deep
    /// Learning with Differential Privacy", CCS 2016), overwriting `grad`; no L2 penalty (it is data-independent;
    /// callers add it after the noise).
    ///
    /// Per-example gradients are never materialised. A dense layer's per-example weight gradient is the outer
    /// product of its output delta and its input, so its squared norm is `|dz|^2 (|a|^2 + 1)` including the bias;
    /// and every layer's delta is linear in the output delta, so scaling example i's deltas by its clip factor
    /// scales its whole gradient. One forward and one backward pass give the norms; the weight gradients are then
    /// computed once from the scaled deltas.
    ///
    /// - Returns: the summed weighted loss, and how many examples were clipped.
    public func clippedGradientSum(
        parameters params: UnsafeBufferPointer<Float>,
        features x: UnsafePointer<Float>, labels y: UnsafePointer<Int32>, batch: Int,
        loss: LossConfig, clip: Float, gradient grad: UnsafeMutableBufferPointer<Float>, workspace ws: Workspace,
        threads: Int = 1
    ) -> (lossSum: Double, clipped: Int) {
        precondition(batch <= ws.capacity, "batch \(batch) exceeds workspace capacity \(ws.capacity)")
        let p = params.baseAddress!
        guard batch > 0 else {
            for i in 0..<grad.count { grad[i] = 0 }
            return (0, 0)
        }
        self.forward(p, x: x, batch: batch, ws: ws, threads: threads)
        let total = self.outputDelta(labels: y, batch: batch, loss: loss, scale: 1, ws: ws)
        self.propagateDeltas(p, batch: batch, ws: ws, threads: threads)
        var clipped = 0
        for r in 0..<batch {
            var squared = 0.0
            for l in 0..<self.layerCount {
                let nin = self.widths[l], nout = self.widths[l + 1]
                let input: UnsafePointer<Float> = l == 0 ? x : UnsafePointer(ws.post[l])
                let d = Vector.sumOfSquares(UnsafeBufferPointer(start: ws.delta[l + 1] + r * nout, count: nout))
                let a = Vector.sumOfSquares(UnsafeBufferPointer(start: input + r * nin, count: nin))
                squared += d * (a + 1)
            }
            let norm = squared.squareRoot()
            if norm > Double(clip) {
                clipped += 1
                let factor = Float(Double(clip) / norm)
                for l in 1...self.layerCount {
                    Vector.scale(factor, UnsafeMutableBufferPointer(start: ws.delta[l] + r * self.widths[l], count: self.widths[l]))
                }
            }
        }
        self.accumulateGradients(x: x, batch: batch, gradient: grad.baseAddress!, ws: ws, threads: threads)
        return (total, clipped)
    }

    /// Writes the output layer's delta into `ws.delta[L]` (each example's gradient of its weighted loss, times
    /// `scale`) and returns the summed weighted loss.
    func outputDelta(labels y: UnsafePointer<Int32>, batch: Int, loss: LossConfig, scale: Float, ws: Workspace) -> Double {
        let L = self.layerCount
        let nout = self.widths[L]
        let z = ws.pre[L]
        let dz = ws.delta[L]
        var total = 0.0
        for r in 0..<batch {
            let label = Int(y[r])
            let w = loss.classWeights?[label] ?? 1
            if nout == 1 {
                let logit = z[r]
                let target: Float = label == 1 ? 1 : 0
                total += Double(w * Self.binaryCrossEntropy(logit: logit, target: target))
                dz[r] = w * (Self.sigmoid(logit) - target) * scale
            } else {
                let row = z + r * nout, drow = dz + r * nout
                var m = row[0]
                for c in 1..<nout { m = max(m, row[c]) }
                var s: Float = 0
                for c in 0..<nout {
                    drow[c] = Math.expf(row[c] - m)
                    s += drow[c]
                }
                let lse = m + Math.logf(s)
                total += Double(w * (lse - row[label]))
                let f = w * scale / s
                for c in 0..<nout { drow[c] *= f }
                drow[label] -= w * scale
            }
        }
        return total
    }

    /// Back-propagates `ws.delta[L]` to every hidden layer's delta (`ws.delta[l]`, through the activations).
    func propagateDeltas(_ p: UnsafePointer<Float>, batch: Int, ws: Workspace, threads: Int) {
        for l in stride(from: self.layerCount - 1, through: 1, by: -1) {
            let nin = self.widths[l], noutL = self.widths[l + 1]
            let d = ws.delta[l + 1]
            // dA = dZ · W, then through the activation.
            let da = ws.delta[l]
            GEMM.multiply(
                .none, .none, m: batch, n: nin, k: noutL,
                a: d, lda: noutL, b: p + self.weightOffsets[l], ldb: nin,
                beta: 0, c: da, ldc: nin, threads: threads
            )
            let zl = ws.pre[l], al = ws.post[l]
            let n = batch * nin
            switch self.spec.activation {
            case .relu:
                for i in 0..<n where zl[i] <= 0 { da[i] = 0 }
            case .tanh:
                for i in 0..<n { da[i] *= 1 - al[i] * al[i] }
            }
        }
    }

    /// Weight and bias gradients from the deltas: `dW_l = dZ_lᵀ · A_{l-1}`, `db_l = Σ rows of dZ_l` (overwrites).
    func accumulateGradients(x: UnsafePointer<Float>, batch: Int, gradient g: UnsafeMutablePointer<Float>, ws: Workspace, threads: Int) {
        for l in 0..<self.layerCount {
            let nin = self.widths[l], noutL = self.widths[l + 1]
            let d = ws.delta[l + 1]
            let input: UnsafePointer<Float> = l == 0 ? x : UnsafePointer(ws.post[l])
            GEMM.multiply(
                .transpose, .none, m: noutL, n: nin, k: batch,
                a: d, lda: noutL, b: input, ldb: nin,
                beta: 0, c: g + self.weightOffsets[l], ldc: nin, threads: threads
            )
            let gb = g + self.biasOffsets[l]
            for c in 0..<noutL { gb[c] = 0 }
            for r in 0..<batch {
                let row = d + r * noutL
                for c in 0..<noutL { gb[c] += row[c] }
            }
        }
    }

    /// Adds the L2 penalty's gradient to `grad` and returns the penalty.
    func addL2(_ params: UnsafeBufferPointer<Float>, loss: LossConfig, gradient grad: UnsafeMutableBufferPointer<Float>) -> Double {
        guard loss.l2 > 0 else { return 0 }
        let p = params.baseAddress!, g = grad.baseAddress!
        var penalty = 0.0
        for l in 0..<self.layerCount {
            let count = self.widths[l] * self.widths[l + 1]
            let wp = UnsafeBufferPointer(start: p + self.weightOffsets[l], count: count)
            penalty += Vector.sumOfSquares(wp)
            Vector.axpy(loss.l2, wp, UnsafeMutableBufferPointer(start: g + self.weightOffsets[l], count: count))
        }
        return 0.5 * Double(loss.l2) * penalty
    }

    /// Predicted class probabilities: for a binary outcome one value per example (probability of class 1),
    /// otherwise `classCount` values per example.
    public func predict(_ parameters: ModelParameters, features: [Float], count: Int) -> [Float] {
        precondition(parameters.layout == self.layout, "parameters do not match the model layout")
        let nout = self.spec.outputCount
        var out = [Float](repeating: 0, count: count * nout)
        guard count > 0 else { return out }
        let chunk = min(count, 2048)
        let ws = Workspace(network: self, batchCapacity: chunk)
        let d = self.spec.inputCount
        parameters.flat.withUnsafeBufferPointer { p in
            features.withUnsafeBufferPointer { x in
                var start = 0
                while start < count {
                    let b = min(chunk, count - start)
                    self.forward(p.baseAddress!, x: x.baseAddress! + start * d, batch: b, ws: ws,
                                 threads: ProcessorCount.active)
                    let z = ws.pre[self.layerCount]
                    for r in 0..<b {
                        if nout == 1 {
                            out[start + r] = Self.sigmoid(z[r])
                        } else {
                            let row = z + r * nout
                            var m = row[0]
                            for c in 1..<nout { m = max(m, row[c]) }
                            var s: Float = 0
                            for c in 0..<nout { s += Math.expf(row[c] - m) }
                            for c in 0..<nout { out[(start + r) * nout + c] = Math.expf(row[c] - m) / s }
                        }
                    }
                    start += b
                }
            }
        }
        return out
    }

    /// Class probabilities as a `count x classCount` matrix, also for binary models.
    public func predictProbabilities(_ parameters: ModelParameters, features: [Float], count: Int) -> [Float] {
        let raw = self.predict(parameters, features: features, count: count)
        guard self.isBinary else { return raw }
        var out = [Float](repeating: 0, count: 2 * count)
        for i in 0..<count {
            out[2 * i] = 1 - raw[i]
            out[2 * i + 1] = raw[i]
        }
        return out
    }

    /// `1 / (1 + e^-z)`, without overflow for large |z|.
    @inlinable
    public static func sigmoid(_ z: Float) -> Float {
        if z >= 0 {
            return 1 / (1 + Math.expf(-z))
        }
        let e = Math.expf(z)
        return e / (1 + e)
    }

    /// Binary cross-entropy from a logit: `max(z, 0) - z*t + log(1 + e^-|z|)`.
    @inlinable
    public static func binaryCrossEntropy(logit z: Float, target t: Float) -> Float {
        max(z, 0) - z * t + Math.log1pf(Math.expf(-abs(z)))
    }
}
