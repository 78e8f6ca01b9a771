extension CodecSpec: LosslessStringConvertible, Codable {
    /// Parses a spec string such as `q8`, `topk:0.01+q8+deflate` (the grammar is on ``CodecSpec``).
    ///
    /// - Throws: ``CompressionError`` with code `invalidSpec`, naming the part that is wrong.
    public init(parsing text: String) throws(CompressionError) {
        let source = text.trimmingSpaces().lowercased()
        var stages = source.split(separator: "+", omittingEmptySubsequences: false).map { String($0).trimmingSpaces() }
        guard !source.isEmpty else { throw CompressionError(.invalidSpec, "empty codec spec") }

        var lossless = false
        if stages.last == "deflate" {
            lossless = true
            stages.removeLast()
        }
        guard let first = stages.first else {
            throw CompressionError(.invalidSpec, "'\(text)': deflate needs a codec before it, e.g. dense+deflate")
        }
        var fraction: Double?
        var quantization: Quantization?
        if first == "dense" {
            guard stages.count == 1 else {
                throw CompressionError(.invalidSpec, "'\(text)': nothing may follow dense except +deflate")
            }
        } else if first.hasPrefix("topk:") {
            let number = first.dropFirst("topk:".count)
            guard let f = Double(number), f.isFinite else {
                throw CompressionError(.invalidSpec, "'\(text)': top-k fraction '\(number)' is not a number")
            }
            fraction = f
            if stages.count > 1 { quantization = try Self.parseQuantization(stages[1], in: text) }
            guard stages.count <= 2 else { throw Self.unexpected(stages[2], in: text) }
        } else {
            quantization = try Self.parseQuantization(first, in: text)
            guard stages.count == 1 else { throw Self.unexpected(stages[1], in: text) }
        }
        let spec = CodecSpec(topKFraction: fraction, quantization: quantization, isLossless: lossless)
        try spec.validate()
        self = spec
    }

    /// Parses a spec string, or returns nil if it is not valid (``init(parsing:)`` says why).
    public init?(_ description: String) {
        guard let spec = try? CodecSpec(parsing: description) else { return nil }
        self = spec
    }

    /// The canonical spec string (defaults omitted), e.g. `topk:0.01+q8+deflate`.
    public var description: String {
        var stages: [String] = []
        if let f = self.topKFraction { stages.append("topk:\(f)") }
        if let q = self.quantization {
            var options: [String] = []
            if q.blockSize != Quantization.defaultBlockSize { options.append("block=\(q.blockSize)") }
            if !q.isStochastic { options.append("nearest") }
            stages.append("q\(q.bits)" + (options.isEmpty ? "" : "(" + options.joined(separator: ",") + ")"))
        }
        if stages.isEmpty { stages.append("dense") }
        if self.isLossless { stages.append("deflate") }
        return stages.joined(separator: "+")
    }

    /// Decodes the spec string (``init(parsing:)``).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        self = try CodecSpec(parsing: container.decode(String.self))
    }

    /// Encodes the canonical spec string (``description``).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.description)
    }

    private static func parseQuantization(_ stage: String, in text: String) throws(CompressionError) -> Quantization {
        var name = Substring(stage)
        var options: [Substring] = []
        if let open = stage.firstIndex(of: "(") {
            guard stage.hasSuffix(")") else {
                throw CompressionError(.invalidSpec, "'\(text)': '\(stage)' has no closing parenthesis")
            }
            name = stage[..<open]
            options = stage[stage.index(after: open)..<stage.index(before: stage.endIndex)]
                .split(separator: ",", omittingEmptySubsequences: false)
        }
        let bits: Int
        switch name {
        case "q8": bits = 8
        case "q4": bits = 4
        default: throw Self.unexpected(stage, in: text)
        }
        var stochastic = true
        var block = Quantization.defaultBlockSize
        for raw in options {
            let option = String(raw).trimmingSpaces()
            if option == "nearest" {
                stochastic = false
            } else if option.hasPrefix("block="), let b = Int(option.dropFirst("block=".count)) {
                block = b
            } else {
                throw CompressionError(
                    .invalidSpec, "'\(text)': unknown quantisation option '\(option)' (block=N or nearest)")
            }
        }
        return Quantization(bits: bits, stochastic: stochastic, blockSize: block)
    }

    private static func unexpected(_ stage: String, in text: String) -> CompressionError {
        CompressionError(
            .invalidSpec,
            "'\(text)': unexpected '\(stage)' (expected dense, q8, q4 or topk:FRACTION, optionally +q8/+q4 after "
                + "topk, and +deflate last)")
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs (no Foundation in this module).
    fileprivate func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" }
        guard let start = self.firstIndex(where: { !isSpace($0) }),
            let end = self.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(self[start...end])
    }
}
