extension ParameterLayout {
    /// The layers of the layout, in order: tensors that share a name up to the last dot (`layers.1.weight` and
    /// `layers.1.bias` are layer `layers.1`), each with its tensor names.
    public var layers: [(name: String, tensors: [String])] {
        var out = [(name: String, tensors: [String])]()
        for e in self.entries {
            let layer = e.name.lastIndex(of: ".").map { String(e.name[..<$0]) } ?? e.name
            if out.last?.name == layer {
                out[out.count - 1].tensors.append(e.name)
            } else {
                out.append((layer, [e.name]))
            }
        }
        return out
    }

    /// The tensor names of the last `count` layers (the head), in layout order; empty for 0.
    public func trailingLayerTensors(_ count: Int) -> [String] {
        guard count > 0 else { return [] }
        return self.layers.suffix(count).flatMap(\.tensors)
    }

    /// The flat ranges of the named tensors, in layout order; nil if a name is not in the layout.
    public func ranges(of names: [String]) -> [Range<Int>]? {
        let wanted = Set(names)
        let found = self.entries.filter { wanted.contains($0.name) }
        guard found.count == wanted.count else { return nil }
        return found.map(\.range)
    }
}

extension ModelParameters {
    /// The values in `ranges`, concatenated in order.
    public func values(in ranges: [Range<Int>]) -> [Float] {
        ranges.flatMap { self.flat[$0] }
    }

    /// Overwrites the values in `ranges` with `values`, concatenated in order (as ``values(in:)`` returns them).
    public mutating func replaceValues(in ranges: [Range<Int>], with values: [Float]) {
        precondition(values.count == ranges.reduce(0) { $0 + $1.count }, "\(values.count) values for the ranges")
        var k = 0
        for r in ranges {
            self.flat.replaceSubrange(r, with: values[k..<(k + r.count)])
            k += r.count
        }
    }
}
