import CohortTesting
import Foundation
import Testing

/// `cohort analytics` as a user runs it: three sites' CSV files (one in other units and names, with a mapping), a
/// query file, and the JSON output compared with the same statistics computed here over the pooled rows.
@Suite("cohort analytics")
struct AnalyticsCommandTests {
    /// One patient row in the schema's units.
    struct Row {
        var site: String
        var age: Double
        var chol: Double?
        var ward: String
    }

    static let schema = """
        columns:
          - {name: patient, type: numeric, role: id}
          - {name: age, type: numeric, range: [0, 120]}
          - {name: chol, type: numeric, range: [50, 700], unit: mg/dL}
          - {name: ward, type: categorical, categories: [a, b, c]}
          - {name: outcome, type: binary, role: label}
        """

    static let query = """
        statistics: [count, sum, mean, variance, std, histogram, missing]
        columns: [age, chol]
        group_by: ward
        filter: "age >= 30"
        histogram: {bins: 5, ranges: {age: [0, 100], chol: [100, 400]}}
        """

    /// Writes the federation and returns every row as the schema sees it (after site-3's mapping).
    static func writeFederation(_ dir: TemporaryDirectory) throws -> [Row] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        var rows = [Row]()
        for (s, n) in [("site-1", 140), ("site-2", 90), ("site-3", 120)] {
            // site-3 exports cholesterol in mmol/L under other column names and ward codes 1-3.
            let mmol = s == "site-3"
            var csv = mmol ? "PatientID,Age,Chol_mmol,Ward,outcome\n" : "patient,age,chol,ward,outcome\n"
            for i in 0..<n {
                let age = (18 + 70 * next()).rounded()
                let cholMg = next() < 0.1 ? nil : (140 + 160 * next() + age).rounded()
                let ward = ["a", "b", "c"][min(2, Int(3 * next()))]
                let outcome = next() < 0.3 ? 1 : 0
                if mmol {
                    let value = cholMg.map { String(format: "%.4f", $0 / 38.67) } ?? "NA"
                    csv += "\(i),\(age),\(value),\(["a": "1", "b": "2", "c": "3"][ward]!),\(outcome)\n"
                    rows.append(Row(site: s, age: age, chol: cholMg.map { Double(String(format: "%.4f", $0 / 38.67))! * 38.67 }, ward: ward))
                } else {
                    csv += "\(i),\(age),\(cholMg.map { String($0) } ?? "NA"),\(ward),\(outcome)\n"
                    rows.append(Row(site: s, age: age, chol: cholMg, ward: ward))
                }
            }
            try dir.write("data/\(s).csv", csv)
        }
        try dir.write("data/schema.yaml", Self.schema)
        try dir.write("data/site-3.mapping.yaml", """
            rename: {PatientID: patient, Age: age, Chol_mmol: chol, Ward: ward}
            recode:
              ward: {"1": a, "2": b, "3": c}
            convert:
              chol: {from: mmol/L, to: mg/dL, analyte: cholesterol}
            """)
        try dir.write("query.yaml", Self.query)
        return rows
    }

    /// The fields of one CSV line (quoted fields may hold commas and doubled quotes).
    static func fields(_ line: String) -> [String] {
        var out = [String](), field = "", quoted = false
        var chars = line.makeIterator()
        while let c = chars.next() {
            if quoted {
                if c == "\"" { quoted = false } else { field.append(c) }
            } else if c == "\"" {
                if field.isEmpty { quoted = true } else { field.append(c) }
            } else if c == "," {
                out.append(field)
                field = ""
            } else {
                field.append(c)
            }
        }
        out.append(field)
        return out
    }

    /// The JSON object at a key path.
    static func at(_ object: Any?, _ keys: String...) -> Any? {
        keys.reduce(object) { ($0 as? [String: Any])?[$1] }
    }

    @Test("a grouped, filtered query over mapped site files equals the pooled computation")
    func queryMatchesPooled() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let rows = try Self.writeFederation(dir)
        let r = try CohortBinary.run([
            "analytics", "--data", dir.path("data").path, "--query", dir.path("query.yaml").path,
            "--min-cell-count", "1", "--out", dir.path("out").path,
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("site-3: mapped by"))
        #expect(r.stdout.contains("3 of 3 sites answered"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.path("out/statistics.json")))
        let groups = try #require(Self.at(json, "federation", "groups") as? [[String: Any]])
        #expect(groups.map { $0["key"] as? String } == ["a", "b", "c", "(missing)"])
        var compared = 0
        for group in groups {
            let key = try #require(group["key"] as? String)
            let selected = rows.filter { $0.age >= 30 && $0.ward == key }
            #expect(group["rows"] as? Double == Double(selected.count), "\(key) rows")
            let columns = try #require(group["columns"] as? [[String: Any]])
            for (name, grid) in [("age", (0.0, 100.0)), ("chol", (100.0, 400.0))] {
                let c = try #require(columns.first { $0["column"] as? String == name })
                let values = selected.compactMap { name == "age" ? $0.age : $0.chol }
                #expect(c["count"] as? Double == Double(values.count), "\(key)/\(name) count")
                #expect(c["missing"] as? Double == Double(selected.count - values.count), "\(key)/\(name) missing")
                guard values.count > 1 else { continue }
                let n = Double(values.count)
                let sum = values.reduce(0, +), mean = sum / n
                let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1)
                for (stat, truth) in [("sum", sum), ("mean", mean), ("variance", variance), ("standardDeviation", variance.squareRoot())] {
                    let v = try #require(c[stat] as? Double, "\(key)/\(name) \(stat) missing from the JSON")
                    #expect(abs(v - truth) <= 1e-9 * abs(truth), "\(key)/\(name) \(stat): \(v) vs pooled \(truth)")
                    compared += 1
                }
                // Five bins over the query's range plus the cells below and above it.
                var cells = [Double](repeating: 0, count: 7)
                for x in values {
                    let cell = x < grid.0 ? 0 : x > grid.1 ? 6 : min(Int((x - grid.0) * 5 / (grid.1 - grid.0)), 4) + 1
                    cells[cell] += 1
                }
                #expect(Self.at(c, "histogram", "counts") as? [Double] == cells, "\(key)/\(name) histogram")
            }
        }
        #expect(compared >= 24)
        let csv = try String(contentsOf: dir.path("out/statistics.csv"), encoding: .utf8)
        #expect(csv.hasPrefix("site,group,column,statistic,item,value,suppressed,note,error_bound\n"))
        #expect(csv.contains("federation,b,chol,mean,"))
    }

    @Test("a site's cells below the minimum count are marked suppressed in the CSV, not zero")
    func suppressionInCSV() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        _ = try Self.writeFederation(dir)
        let r = try CohortBinary.run([
            "analytics", "--data", dir.path("data").path, "--query", dir.path("query.yaml").path,
            "--min-cell-count", "10", "--out", dir.path("out").path,
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let lines = try String(contentsOf: dir.path("out/statistics.csv"), encoding: .utf8).split(separator: "\n")
        let suppressed = lines.filter { $0.hasPrefix("site-") && $0.contains(",true,") }
        #expect(!suppressed.isEmpty)
        // A suppressed row has no value and says why.
        for line in suppressed {
            let fields = Self.fields(String(line))
            #expect(fields.count == 9 && fields[5].isEmpty && fields[6] == "true" && !fields[7].isEmpty, "\(line)")
        }
    }

    @Test("a mapping that leaves a difference fails naming the file, the site and the line")
    func mappingMismatch() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        _ = try Self.writeFederation(dir)
        try dir.write("data/site-3.mapping.yaml", """
            rename: {PatientID: patient, Age: age, Chol_mmol: chol, Ward: ward}
            recode:
              ward: {"1": a, "2": b}
            """)
        let r = try CohortBinary.run(["analytics", "--data", dir.path("data").path, "--out", dir.path("out").path])
        #expect(r.status == 2)
        for expected in ["site-3.csv", "site site-3", "column 'ward'", "'3'", "first at line", "recode", "column 'chol'", "mmol/l"] {
            #expect(r.stderr.contains(expected), "missing '\(expected)' in: \(r.stderr)")
        }
    }

    @Test("readiness prints findings and writes one HTML page per site and one for the federation")
    func readiness() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        _ = try Self.writeFederation(dir)
        let r = try CohortBinary.run(["analytics", "readiness", "--data", dir.path("data").path, "--out", dir.path("ready").path])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("Data readiness: 3 sites"))
        for f in ["federation.html", "site-site-1.html", "site-site-2.html", "site-site-3.html", "readiness.json"] {
            #expect(FileManager.default.fileExists(atPath: dir.path("ready/\(f)").path), "\(f)")
        }
    }

    @Test("psi reports the exact overlap of two identifier files and writes members only when asked")
    func psi() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("a.txt", (1...400).map { "MRN-\($0)" }.joined(separator: "\n"))
        try dir.write("b.csv", "mrn,age\n" + (301...900).map { "mrn \($0),50" }.joined(separator: "\n"))
        let r = try CohortBinary.run([
            "analytics", "psi", "--ids", "north=\(dir.path("a.txt").path)", "--ids", "south=\(dir.path("b.csv").path)",
            "--column", "mrn", "--out", dir.path("psi").path,
        ])
        // --column applies to every file; a.txt has no header named mrn.
        #expect(r.status != 0)
        try dir.write("b.txt", (301...900).map { "mrn \($0)" }.joined(separator: "\n"))
        let ok = try CohortBinary.run([
            "analytics", "psi", "--ids", "north=\(dir.path("a.txt").path)", "--ids", "south=\(dir.path("b.txt").path)",
            "--members", "--out", dir.path("psi").path,
        ])
        #expect(ok.status == 0, "stderr: \(ok.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.path("psi/psi.json")))
        #expect(Self.at(json, "learned", "north") as? Int == 100 && Self.at(json, "learned", "south") as? Int == 100)
        #expect(Self.at(json, "coordinator", "releasedCardinality") as? Int == 100)
        let members = try String(contentsOf: dir.path("psi/north-members.txt"), encoding: .utf8).split(separator: "\n")
        #expect(Set(members) == Set((301...400).map { "MRN-\($0)" }))
    }
}
