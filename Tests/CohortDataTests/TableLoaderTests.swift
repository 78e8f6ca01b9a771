import CohortData
import Testing

@Suite("Table loading and validation")
struct TableLoaderTests {
    static let schema = try! DatasetSchema.parse(yaml: """
        columns:
          - {name: id, type: numeric, role: id}
          - {name: age, type: numeric, range: [0, 120]}
          - {name: sex, type: categorical, categories: [female, male]}
          - {name: smoker, type: binary}
          - {name: bp, type: numeric, on_missing: drop}
          - {name: label, type: binary, role: label}
        """, source: "schema.yaml")

    func load(_ csv: String, policy: ValidationPolicy = .strict) throws(DataError) -> (Table, ValidationReport) {
        let r = try TableLoader.load(bytes: Array(csv.utf8), source: "data.csv", schema: Self.schema, policy: policy)
        return (r.table, r.report)
    }

    @Test("valid rows become typed columns; missing markers and policies apply; the report counts everything")
    func valid() throws {
        let (t, rep) = try load("""
            id,age,sex,smoker,bp,label,extra
            1,34,female,0,120,1,x
            2,NA,male,true,130,0,y
            3,50,,1,?,0,z
            4,61,male,no,140,1,w
            """)
        #expect(t.rowCount == 3)
        #expect(t.lines == [2, 3, 5])
        #expect(t.labels == [1, 0, 1])
        guard case .numeric(let age) = t.values(of: "age")! else { Issue.record("age is numeric"); return }
        #expect(age[0] == 34 && age[1].isNaN && age[2] == 61)
        guard case .categorical(let smoker) = t.values(of: "smoker")! else { Issue.record("binary"); return }
        #expect(smoker == [0, 1, 0])
        #expect(rep.rowsRead == 4 && rep.rowsAccepted == 3 && rep.rowsDropped == 1)
        #expect(rep.ignoredColumns == ["extra"])
        #expect(rep.columns.first { $0.name == "age" }?.missing == 1)
        #expect(rep.labelDistribution == ["0": 1, "1": 2])
    }

    struct BadCase: Sendable, CustomTestStringConvertible {
        var name: String
        var csv: String
        var code: DataError.Code
        var line: Int?
        var column: String?
        var testDescription: String { self.name }
    }

    static let badCases: [BadCase] = [
        BadCase(name: "wrong column count", csv: "id,age,sex,smoker,bp,label\n1,30,male,0,120,1\n2,31,male,0,1\n",
                code: .fieldCount, line: 3, column: nil),
        BadCase(name: "non-numeric value", csv: "id,age,sex,smoker,bp,label\n1,thirty,male,0,120,1\n",
                code: .notANumber, line: 2, column: "age"),
        BadCase(name: "unknown category", csv: "id,age,sex,smoker,bp,label\n1,30,male,0,120,1\n2,40,M,0,120,0\n",
                code: .unknownCategory, line: 3, column: "sex"),
        BadCase(name: "missing label", csv: "id,age,sex,smoker,bp,label\n1,30,male,0,120,NA\n",
                code: .missingLabel, line: 2, column: "label"),
        BadCase(name: "empty file", csv: "", code: .emptyFile, line: 1, column: nil),
        BadCase(name: "header only", csv: "id,age,sex,smoker,bp,label\n", code: .noRows, line: 2, column: nil),
        BadCase(name: "schema column missing from the file", csv: "id,age,sex,bp,label\n1,30,male,120,1\n",
                code: .missingColumn, line: 1, column: "smoker"),
        BadCase(name: "value out of range", csv: "id,age,sex,smoker,bp,label\n1,130,male,0,120,1\n",
                code: .outOfRange, line: 2, column: "age"),
        BadCase(name: "bad binary value", csv: "id,age,sex,smoker,bp,label\n1,30,male,maybe,120,1\n",
                code: .unknownCategory, line: 2, column: "smoker"),
    ]

    @Test("each kind of bad input gives an error naming file, line and column", arguments: badCases)
    func badInput(c: BadCase) {
        let e = #expect(throws: DataError.self) { try load(c.csv) }
        #expect(e?.code == c.code)
        #expect(e?.file == "data.csv")
        #expect(e?.line == c.line)
        #expect(e?.column == c.column)
        // The rendered message carries the location for a person to act on.
        if let e, let line = c.line { #expect(e.description.hasPrefix("data.csv:\(line): ")) }
        if let e, let col = c.column { #expect(e.description.contains("column '\(col)'")) }
    }

    @Test("lenient mode rejects bad rows, reports them, and fails only above the threshold")
    func lenient() throws {
        var csv = "id,age,sex,smoker,bp,label\n"
        for i in 0..<99 { csv += "\(i),\(20 + i % 50),female,0,120,\(i % 2)\n" }
        csv += "99,old,female,0,120,1\n"
        let (t, rep) = try load(csv, policy: .rejectRows(maximumFraction: 0.05))
        #expect(t.rowCount == 99)
        #expect(rep.rowsRejected == 1)
        #expect(rep.issues.first?.line == 101)
        #expect(rep.issues.first?.column == "age")
        #expect(throws: DataError.self) { try load(csv, policy: .rejectRows(maximumFraction: 0.001)) }
    }

    @Test("out-of-range values can be treated as missing (e.g. cholesterol recorded as 0)")
    func outOfRangeAsMissing() throws {
        let schema = try DatasetSchema.parse(yaml: """
            columns:
              - {name: chol, type: numeric, range: [80, 700], on_out_of_range: missing}
              - {name: label, type: binary, role: label}
            """, source: "s.yaml")
        let r = try TableLoader.load(bytes: Array("chol,label\n0,1\n240,0\n".utf8), source: "c.csv", schema: schema)
        guard case .numeric(let chol) = r.table.columns[0] else { Issue.record("numeric"); return }
        #expect(chol[0].isNaN && chol[1] == 240)
        #expect(r.report.columns[0].outOfRange == 1)
    }
}
