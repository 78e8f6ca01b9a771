public import CohortTensor

/// The names, shapes and positions of a model's tensors inside one flat vector.
public struct ParameterLayout: Sendable, Hashable, Codable {
    /// One named tensor of the layout.
    public struct Entry: Sendable, Hashable, Codable {
        public var name: String
        public var shape: [Int]
        public var offset: Int
        public var count: Int { Tensor.elementCount(of: self.shape) }
        public var range: Range<Int> { self.offset..<(self.offset + self.count) }
    }

    /// The tensors, in order.
    public private(set) var entries: [Entry]
    /// Total number of scalars.
    public private(set) var totalCount: Int

    /// Creates a layout from named shapes, packed in the given order.
    public init(_ shapes: [(name: String, shape: [Int])]) {
        var entries = [Entry]()
        var offset = 0
        for (name, shape) in shapes {
            precondition(!entries.contains { $0.name == name }, "duplicate parameter name \(name)")
            entries.append(Entry(name: name, shape: shape, offset: offset))
            offset += Tensor.elementCount(of: shape)
        }
        self.entries = entries
        self.totalCount = offset
    }

    /// The entry with a name.
    public func entry(named name: String) -> Entry? {
        self.entries.first { $0.name == name }
    }
}

/// A model's parameters: ordered, named tensors stored back to back in one flat Float32 vector.
///
/// The flat view is what aggregation, compression, privacy filters and the wire work on; the named view is what
/// models and file formats use.
public struct ModelParameters: Sendable, Hashable {
    /// Names and shapes.
    public let layout: ParameterLayout
    /// All scalars, in layout order.
    public var flat: [Float]

    /// Creates parameters from a layout and its scalars.
    public init(layout: ParameterLayout, flat: [Float]) {
        precondition(flat.count == layout.totalCount,
                     "layout needs \(layout.totalCount) scalars, got \(flat.count)")
        self.layout = layout
        self.flat = flat
    }

    /// Zero-filled parameters for a layout.
    public init(zeros layout: ParameterLayout) {
        self.init(layout: layout, flat: [Float](repeating: 0, count: layout.totalCount))
    }

    /// Number of scalars.
    public var count: Int { self.flat.count }

    /// The tensor with a name.
    public subscript(name: String) -> Tensor? {
        guard let e = self.layout.entry(named: name) else { return nil }
        return Tensor(shape: e.shape, scalars: Array(self.flat[e.range]))
    }

    /// The named tensors, in order.
    public var tensors: [(name: String, tensor: Tensor)] {
        self.layout.entries.map { ($0.name, Tensor(shape: $0.shape, scalars: Array(self.flat[$0.range]))) }
    }

    /// `self - other`, element-wise (same layout).
    public func subtracting(_ other: ModelParameters) -> ModelParameters {
        precondition(self.layout == other.layout, "layouts differ")
        var out = self
        out.flat.addScaled(other.flat, by: -1)
        return out
    }

    /// `self + alpha * other`, element-wise (same layout).
    public func adding(_ other: ModelParameters, scaledBy alpha: Float = 1) -> ModelParameters {
        precondition(self.layout == other.layout, "layouts differ")
        var out = self
        out.flat.addScaled(other.flat, by: alpha)
        return out
    }

    /// Raw little-endian bytes of the flat vector.
    public var bytes: [UInt8] {
        self.flat.withUnsafeBytes { Array($0) }
    }

    /// Parameters from raw little-endian bytes.
    public init(layout: ParameterLayout, bytes: [UInt8]) throws(ShapeError) {
        guard bytes.count == layout.totalCount * 4 else {
            throw ShapeError(expected: [layout.totalCount], actual: [bytes.count / 4], context: "parameter bytes")
        }
        var flat = [Float](repeating: 0, count: layout.totalCount)
        flat.withUnsafeMutableBytes { dst in bytes.withUnsafeBytes { dst.copyMemory(from: $0) } }
        self.init(layout: layout, flat: flat)
    }
}
