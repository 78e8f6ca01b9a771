import CohortTesting
import Foundation
import Testing

/// Runs the built `cohort` executable as a user would.
enum CohortBinary {
    static var url: URL {
        // The test bundle and the executable are built into the same directory.
        var dir = Bundle.main.bundleURL
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("cohort")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir.deleteLastPathComponent()
        }
        return SharedData.packageRoot.appendingPathComponent(".build/debug/cohort")
    }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String], in directory: URL? = nil) throws -> Output {
        let p = Process()
        p.executableURL = self.url
        p.arguments = arguments
        if let directory { p.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }
}

@Suite("cohort simulate")
struct SimulateCommandTests {
    @Test("runs end to end on a small synthetic network and prints the comparison table")
    func runs() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let r = try CohortBinary.run(["simulate", "--sites", "5", "--rounds", "3", "--out", dir.path("out").path])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("mean of sites"))
        #expect(r.stdout.contains("hospital-01"))
        for f in ["metrics.json", "metrics.csv", "model.safetensors", "model.card.json", "report.html"] {
            #expect(FileManager.default.fileExists(atPath: dir.path("out/\(f)").path))
        }
    }

    struct BadData: Sendable, CustomTestStringConvertible {
        var name: String
        var files: [String: String]
        var expected: [String]
        var testDescription: String { self.name }
    }

    static let schema = "columns:\n  - {name: a, type: numeric}\n  - {name: g, type: categorical, categories: [x, y]}\n  - {name: label, type: binary, role: label}\n"

    static let bad: [BadData] = [
        BadData(name: "wrong column count", files: ["s1_train.csv": "a,g,label\n1,x,0\n2,y\n", "schema.yaml": schema],
                expected: ["s1_train.csv:3:", "2 fields"]),
        BadData(name: "non-numeric value", files: ["s1_train.csv": "a,g,label\n1,x,0\nabc,y,1\n", "schema.yaml": schema],
                expected: ["s1_train.csv:3:", "column 'a'", "'abc' is not a number"]),
        BadData(name: "unknown category", files: ["s1_train.csv": "a,g,label\n1,z,0\n", "schema.yaml": schema],
                expected: ["s1_train.csv:2:", "column 'g'", "unknown category 'z'"]),
        BadData(name: "missing label", files: ["s1_train.csv": "a,g,label\n1,x,\n", "schema.yaml": schema],
                expected: ["s1_train.csv:2:", "column 'label'", "label is missing"]),
        BadData(name: "empty file", files: ["s1_train.csv": "", "schema.yaml": schema], expected: ["s1_train.csv:1:", "empty"]),
        BadData(name: "schema names a missing column", files: ["s1_train.csv": "a,label\n1,0\n", "schema.yaml": schema],
                expected: ["s1_train.csv:1:", "column 'g'"]),
        BadData(name: "malformed schema YAML", files: ["s1_train.csv": "a,g,label\n1,x,0\n", "schema.yaml": "columns:\n  - {name: a, type: numberic}\n"],
                expected: ["schema.yaml", "columns[0].type"]),
    ]

    @Test("bad input exits non-zero with an error naming file, line and column", arguments: bad)
    func badInput(c: BadData) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        for (name, text) in c.files { try dir.write("data/\(name)", text) }
        let r = try CohortBinary.run(["simulate", "--data", dir.path("data").path, "--rounds", "1", "--out", dir.path("out").path])
        #expect(r.status != 0)
        #expect(r.stderr.hasPrefix("error: "), "stderr: \(r.stderr)")
        for e in c.expected { #expect(r.stderr.contains(e), "stderr should contain \(e): \(r.stderr)") }
        #expect(!FileManager.default.fileExists(atPath: dir.path("out/metrics.json").path))
    }

    @Test("invalid options are explained")
    func badOptions() throws {
        let r = try CohortBinary.run(["simulate", "--model", "forest"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--model must be logistic, softmax or mlp"))
    }
}
