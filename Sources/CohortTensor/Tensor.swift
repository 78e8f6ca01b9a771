/// A dense, row-major tensor of 32-bit floats.
///
/// Storage is one contiguous array; `shape` gives its logical dimensions. A scalar has shape `[]` and one element.
public struct Tensor: Sendable, Hashable {
    /// The logical dimensions, outermost first.
    public let shape: [Int]
    /// The elements in row-major order.
    public var scalars: [Float]

    /// Creates a tensor from its elements.
    ///
    /// - Precondition: `scalars.count` equals the product of `shape`.
    @inlinable
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        precondition(
            Self.elementCount(of: shape) == scalars.count,
            "shape \(shape) needs \(Self.elementCount(of: shape)) elements, got \(scalars.count)"
        )
        self.shape = shape
        self.scalars = scalars
    }

    /// Creates a tensor filled with one value.
    @inlinable
    public init(shape: [Int], repeating value: Float = 0) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: Self.elementCount(of: shape)))
    }

    /// The number of elements.
    @inlinable
    public var count: Int { self.scalars.count }

    /// The number of elements a shape holds.
    @inlinable
    public static func elementCount(of shape: [Int]) -> Int {
        shape.reduce(1, *)
    }

    /// Returns the same elements under another shape with the same element count.
    public func reshaped(to newShape: [Int]) throws(ShapeError) -> Tensor {
        guard Self.elementCount(of: newShape) == self.count else {
            throw ShapeError(expected: newShape, actual: self.shape, context: "reshape")
        }
        return Tensor(shape: newShape, scalars: self.scalars)
    }

    /// Element at a row and column of a rank-2 tensor.
    @inlinable
    public subscript(row: Int, column: Int) -> Float {
        get { self.scalars[row * self.shape[1] + column] }
        set { self.scalars[row * self.shape[1] + column] = newValue }
    }
}

/// A mismatch between the shape an operation needs and the shape it was given.
public struct ShapeError: Error, Hashable, CustomStringConvertible {
    /// The shape the operation needed.
    public var expected: [Int]
    /// The shape it was given.
    public var actual: [Int]
    /// What was being done, e.g. the parameter name.
    public var context: String

    public init(expected: [Int], actual: [Int], context: String) {
        self.expected = expected
        self.actual = actual
        self.context = context
    }

    public var description: String {
        "shape mismatch in \(self.context): expected \(self.expected), got \(self.actual)"
    }
}
