/// What model to train: its family, input width, classes and hidden layers.
public struct ModelSpec: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Model families.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// Binary logistic regression (one logit, sigmoid).
        case logistic
        /// Multinomial (softmax) regression.
        case softmax
        /// Multi-layer perceptron with any number of hidden layers.
        case mlp
    }

    /// Hidden-layer non-linearity of an MLP.
    public enum Activation: String, Sendable, Hashable, Codable, CaseIterable {
        case relu
        case tanh
    }

    public var kind: Kind
    /// Number of input features (after encoding).
    public var inputCount: Int
    /// Number of classes (2 for a binary outcome).
    public var classCount: Int
    /// Hidden layer widths (MLP only).
    public var hidden: [Int]
    /// Hidden-layer activation (MLP only).
    public var activation: Activation

    public init(kind: Kind, inputCount: Int, classCount: Int, hidden: [Int] = [], activation: Activation = .relu) {
        self.kind = kind
        self.inputCount = inputCount
        self.classCount = classCount
        self.hidden = kind == .mlp ? hidden : []
        self.activation = activation
    }

    /// Checks that the spec describes a model that can be built.
    public func validate() throws(ModelError) {
        guard self.inputCount > 0 else { throw .invalidSpec("the model needs at least one input feature") }
        guard self.classCount >= 2 else { throw .invalidSpec("the label needs at least two classes") }
        if self.kind == .logistic && self.classCount != 2 {
            throw .invalidSpec(
                "logistic regression needs a binary label, this one has \(self.classCount) classes; use --model softmax or mlp")
        }
        if self.kind == .mlp && self.hidden.isEmpty {
            throw .invalidSpec("an MLP needs at least one hidden layer, e.g. --hidden 64,32")
        }
        if let bad = self.hidden.first(where: { $0 <= 0 }) {
            throw .invalidSpec("hidden layer width \(bad) must be positive")
        }
    }

    /// Number of output units: one logit for a binary outcome (logistic, binary MLP), otherwise one per class.
    public var outputCount: Int {
        switch self.kind {
        case .logistic: 1
        case .softmax: self.classCount
        case .mlp: self.classCount == 2 ? 1 : self.classCount
        }
    }

    /// Layer widths from input to output.
    public var widths: [Int] { [self.inputCount] + self.hidden + [self.outputCount] }

    /// Names and shapes of the parameters (weights are `out x in`, as in PyTorch's `nn.Linear`).
    public var layout: ParameterLayout {
        let w = self.widths
        if w.count == 2 {
            return ParameterLayout([("linear.weight", [w[1], w[0]]), ("linear.bias", [w[1]])])
        }
        var shapes = [(name: String, shape: [Int])]()
        for l in 0..<(w.count - 1) {
            shapes.append(("layers.\(l).weight", [w[l + 1], w[l]]))
            shapes.append(("layers.\(l).bias", [w[l + 1]]))
        }
        return ParameterLayout(shapes)
    }

    public var description: String {
        switch self.kind {
        case .logistic: "logistic regression (\(self.inputCount) features)"
        case .softmax: "softmax regression (\(self.inputCount) features, \(self.classCount) classes)"
        case .mlp:
            "MLP \(self.widths.map(String.init).joined(separator: " -> ")) (\(self.activation.rawValue))"
        }
    }
}

/// A problem with a model specification or its parameters.
public enum ModelError: Error, Hashable, CustomStringConvertible {
    case invalidSpec(String)
    case layoutMismatch(String)
    case format(String)

    public var description: String {
        switch self {
        case .invalidSpec(let m): "invalid model: \(m)"
        case .layoutMismatch(let m): "parameters do not fit the model: \(m)"
        case .format(let m): m
        }
    }
}
