import CohortModel
import CohortTensor
import Foundation
import Testing

@Suite("Safetensors and model card")
struct SafetensorsTests {
    static func model() throws -> (DenseNetwork, ModelParameters) {
        let net = try DenseNetwork(ModelSpec(kind: .mlp, inputCount: 5, classCount: 3, hidden: [4]))
        var rng = RandomSource(seed: 1)
        return (net, net.initialParameters(rng: &rng))
    }

    @Test("encode then decode gives the same tensors, names, shapes and metadata")
    func roundTrip() throws {
        let (net, p) = try Self.model()
        let bytes = Safetensors.encode(p, metadata: ["a": "b \"quoted\""])
        #expect((8 + Int(bytes[0]) + Int(bytes[1]) << 8) % 8 == 0)
        let decoded = try Safetensors.decode(bytes)
        #expect(decoded.metadata == ["a": "b \"quoted\""])
        #expect(decoded.tensors.map(\.name) == net.layout.entries.map(\.name))
        let back = try Safetensors.parameters(from: decoded, layout: net.layout, source: "test")
        #expect(back == p)
    }

    @Test("malformed files are refused with a message naming the problem")
    func malformed() throws {
        let (net, p) = try Self.model()
        let good = Safetensors.encode(p)
        #expect(throws: ModelError.self) { try Safetensors.decode([1, 2, 3]) }
        var truncated = good
        truncated.removeLast(8)
        #expect(throws: ModelError.self) { try Safetensors.decode(truncated) }
        var badHeader = good
        badHeader[9] = UInt8(ascii: "!")
        #expect(throws: ModelError.self) { try Safetensors.decode(badHeader) }
        let other = try DenseNetwork(ModelSpec(kind: .mlp, inputCount: 5, classCount: 3, hidden: [6]))
        let contents = try Safetensors.decode(good)
        let error = #expect(throws: ModelError.self) {
            _ = try Safetensors.parameters(from: contents, layout: other.layout, source: "x.safetensors")
        }
        #expect(error?.description.contains("layers.0.weight") == true)
        _ = net
    }

    @Test("export writes weights and a card whose SHA-256 is checked on import")
    func export() throws {
        let (net, p) = try Self.model()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cohort-st-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let card = ModelCard(
            model: net.spec, label: .init(column: "y", classes: ["a", "b", "c"]),
            features: (0..<5).map { ModelCard.Feature(name: "f\($0)", column: "f\($0)", encoding: "numeric", mean: 1, standardDeviation: 2) },
            schema: nil,
            training: .init(version: "test", created: "now", strategy: "fedavg", rounds: 1, seed: 1, sites: ["s": 1],
                            localTraining: TrainingConfig(), standardize: "global", dataSource: "test"),
            weights: .init(file: "", bytes: 0, sha256: "", parameterCount: 0), metrics: [:])
        let url = dir.appendingPathComponent("model.safetensors")
        let sha = try ModelExport.write(p, card: card, to: url)
        let (back, readCard) = try ModelExport.read(from: url)
        #expect(back == p)
        #expect(readCard.weights.sha256 == sha)
        #expect(readCard.features.count == 5)
        // Flip one weight byte: the import must notice.
        var bytes = [UInt8](try Data(contentsOf: url))
        bytes[bytes.count - 1] ^= 1
        try Data(bytes).write(to: url)
        #expect(throws: ModelError.self) { try ModelExport.read(from: url) }
    }

    @Test("Python's safetensors package reads our file")
    func pythonReads() throws {
        let (_, p) = try Self.model()
        guard let python = PythonCheck.interpreter(withModules: ["safetensors", "numpy"]) else {
            print("skipped: python3 with the safetensors and numpy packages is not available (pip install safetensors numpy)")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cohort-py-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("m.safetensors")
        try Data(Safetensors.encode(p, metadata: ["format": "cohort"])).write(to: url)
        let script = """
            import json, sys
            from safetensors.numpy import load_file
            from safetensors import safe_open
            t = load_file(sys.argv[1])
            with safe_open(sys.argv[1], framework="numpy") as f: meta = f.metadata()
            print(json.dumps({"meta": meta, "tensors": {k: {"shape": list(v.shape), "dtype": str(v.dtype), "values": [float(x) for x in v.ravel()]} for k, v in t.items()}}))
            """
        let out = try PythonCheck.run(python, script: script, arguments: [url.path])
        let json = try JSONSerialization.jsonObject(with: Data(out.utf8)) as! [String: Any]
        #expect((json["meta"] as? [String: String]) == ["format": "cohort"])
        let tensors = json["tensors"] as! [String: [String: Any]]
        for (name, t) in p.tensors {
            let entry = try #require(tensors[name])
            #expect(entry["shape"] as? [Int] == t.shape)
            #expect(entry["dtype"] as? String == "float32")
            #expect((entry["values"] as? [Double])?.map { Float($0) } == t.scalars)
        }
    }
}

/// Locates a Python interpreter with given modules, for interoperability checks.
enum PythonCheck {
    static func interpreter(withModules modules: [String]) -> String? {
        for candidate in ["/usr/bin/env"] {
            let probe = "import " + modules.joined(separator: ", ")
            if (try? run(candidate, script: probe, arguments: [], viaEnv: true)) != nil { return candidate }
        }
        return nil
    }

    static func run(_ launcher: String, script: String, arguments: [String], viaEnv: Bool = true) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: launcher)
        process.arguments = ["python3", "-c", script] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PythonError(message: String(decoding: errData, as: UTF8.self))
        }
        return String(decoding: data, as: UTF8.self)
    }

    struct PythonError: Error { var message: String }
}
