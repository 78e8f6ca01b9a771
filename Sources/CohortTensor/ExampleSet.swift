/// Encoded examples ready for training: a row-major feature matrix and integer class labels.
public struct ExampleSet: Sendable, Hashable {
    /// Features, `count x featureCount`, row-major.
    public var features: [Float]
    /// Number of feature columns.
    public var featureCount: Int
    /// Class index of each example, in `0..<classCount`.
    public var labels: [Int32]
    /// Number of classes (2 for a binary outcome).
    public var classCount: Int

    public init(features: [Float], featureCount: Int, labels: [Int32], classCount: Int) {
        precondition(featureCount >= 0 && features.count == labels.count * featureCount,
                     "features hold \(features.count) values, expected \(labels.count) x \(featureCount)")
        precondition(classCount >= 2, "need at least two classes")
        self.features = features
        self.featureCount = featureCount
        self.labels = labels
        self.classCount = classCount
    }

    /// An empty set with the given width.
    public init(featureCount: Int, classCount: Int) {
        self.init(features: [], featureCount: featureCount, labels: [], classCount: classCount)
    }

    /// Number of examples.
    public var count: Int { self.labels.count }

    /// Whether there are no examples.
    public var isEmpty: Bool { self.labels.isEmpty }

    /// The examples at the given indices, in that order.
    public func subset(_ indices: some Sequence<Int>) -> ExampleSet {
        var f = [Float]()
        var l = [Int32]()
        for i in indices {
            f.append(contentsOf: self.features[(i * self.featureCount)..<((i + 1) * self.featureCount)])
            l.append(self.labels[i])
        }
        return ExampleSet(features: f, featureCount: self.featureCount, labels: l, classCount: self.classCount)
    }

    /// Appends another set with the same width and classes.
    public mutating func append(_ other: ExampleSet) {
        precondition(other.featureCount == self.featureCount, "cannot append sets of different widths")
        self.features.append(contentsOf: other.features)
        self.labels.append(contentsOf: other.labels)
        self.classCount = max(self.classCount, other.classCount)
    }

    /// Number of examples per class.
    public var classCounts: [Int] {
        var c = [Int](repeating: 0, count: self.classCount)
        for l in self.labels { c[Int(l)] += 1 }
        return c
    }
}
