import CohortData
import CohortTesting
import Foundation
import Testing

@Suite("Schema")
struct SchemaTests {
    @Test("malformed YAML and wrong values give errors that name the file and key")
    func malformed() {
        let wrongType = #expect(throws: DataError.self) {
            try DatasetSchema.parse(yaml: "columns:\n  - {name: a, type: numberic}\n  - {name: y, type: binary, role: label}\n", source: "s.yaml")
        }
        #expect(wrongType?.file == "s.yaml")
        #expect(wrongType?.description.contains("columns[0].type") == true)
        let missingKey = #expect(throws: DataError.self) {
            try DatasetSchema.parse(yaml: "columns:\n  - {type: numeric}\n", source: "s.yaml")
        }
        #expect(missingKey?.description.contains("name") == true)
        let notYAML = #expect(throws: DataError.self) { try DatasetSchema.parse(yaml: "columns: [ {name: a", source: "bad.yaml") }
        #expect(notYAML?.file == "bad.yaml")
        let noLabel = #expect(throws: DataError.self) {
            try DatasetSchema.parse(yaml: "columns:\n  - {name: a, type: numeric}\n", source: "s.yaml")
        }
        #expect(noLabel?.description.contains("label") == true)
        let noCategories = #expect(throws: DataError.self) {
            try DatasetSchema.parse(yaml: "columns:\n  - {name: c, type: categorical}\n  - {name: y, type: binary, role: label}\n", source: "s.yaml")
        }
        #expect(noCategories?.column == "c")
    }

    @Test("inference reads the FLamby heart-disease split as the documented types")
    func inferHeartDisease() throws {
        guard let shared = SharedData.directory else {
            print("skipped: ../shared/data is not present")
            return
        }
        let dir = shared.appendingPathComponent("heart-disease/flamby-split")
        let files = (0..<4).map { dir.appendingPathComponent("center\($0)_train.csv") }
        let r = try SchemaInference.infer(files: files, label: "label")
        let types = Dictionary(uniqueKeysWithValues: r.schema.columns.map { ($0.name, $0.type) })
        #expect(types["age"] == .numeric && types["chol"] == .numeric && types["oldpeak"] == .numeric)
        #expect(types["sex"] == .binary && types["cp_2"] == .binary && types["label"] == .binary)
        #expect(r.schema.labelColumn?.name == "label")
        #expect(r.notes.count == 14)
        #expect(r.notes.contains { $0.hasPrefix("age: numeric") })
    }

    @Test("inference: text with few values is categorical, many values ignored, a missing label column is an error")
    func inferTypes() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var csv = "pid,ward,temp,label\n"
        for i in 0..<40 { csv += "P\(i),\(["A", "B", "C"][i % 3]),\(36 + Double(i % 7) * 0.3),\(i % 2 == 0 ? "yes" : "no")\n" }
        let u = try dir.write("a.csv", csv)
        let r = try SchemaInference.infer(files: [u], label: "label")
        #expect(r.schema.column(named: "pid")?.role == .ignore)
        #expect(r.schema.column(named: "ward")?.type == .categorical)
        #expect(r.schema.column(named: "ward")?.categories == ["A", "B", "C"])
        #expect(r.schema.column(named: "temp")?.type == .numeric)
        #expect(r.schema.labelColumn?.categories == ["no", "yes"])
        let e = #expect(throws: DataError.self) { try SchemaInference.infer(files: [u], label: "outcome") }
        #expect(e?.code == .missingColumn)
        #expect(e?.column == "outcome")
    }
}
