import CohortAnalytics
import CohortData
import Foundation
import Testing

@Suite("Schema harmonisation")
struct SchemaMappingTests {
    static let schema = try! DatasetSchema.parse(yaml: """
        columns:
          - {name: id, type: numeric, role: id}
          - {name: sex, type: binary, categories: [female, male]}
          - {name: chol, type: numeric, range: [50, 700], unit: mg/dL}
          - {name: temp, type: numeric, range: [30, 45], unit: degC}
          - {name: smoker, type: categorical, categories: [never, former, current]}
          - {name: y, type: binary, role: label}
        """, source: "test")

    @Test("Renames, recodes and unit conversions produce data the loader accepts")
    func mapsAndLoads() throws {
        let csv = """
            ID,Sex,Cholesterol_mmol,TempF,smoker,y,internal
            1,M,5.2,98.6,never,0,x
            2,F,6.0,101.3,Current,1,y
            3,F,NA,99.0,former,0,z
            """
        let yaml = """
            rename: {ID: id, Sex: sex, Cholesterol_mmol: chol, TempF: temp}
            recode:
              sex: {M: male, F: female}
              smoker: {Current: current}
            convert:
              chol: {from: mmol/L, to: mg/dL, analyte: cholesterol}
              temp: {from: °F, to: °C}
            drop: [internal]
            """
        let mapping = try SchemaMapping.parse(yaml: yaml)
        let mapped = try SchemaMapper.apply(mapping, to: Array(csv.utf8), schema: Self.schema, source: "site.csv")
        #expect(mapped.recodedCells == 4 && mapped.convertedCells == 5)
        let (table, report) = try TableLoader.load(bytes: mapped.bytes, source: "site.csv", schema: Self.schema)
        #expect(report.rowsAccepted == 3 && report.ignoredColumns.isEmpty)
        guard case .numeric(let chol)? = table.values(of: "chol"), case .numeric(let temp)? = table.values(of: "temp") else {
            Issue.record("columns missing")
            return
        }
        #expect(abs(chol[0] - 5.2 * 38.67) < 1e-9 && chol[2].isNaN)
        #expect(abs(temp[0] - 37) < 1e-9 && abs(temp[1] - 38.5) < 1e-9)
        #expect(table.values(of: "sex") == .categorical([1, 0, 0]))
    }

    @Test("What still differs is listed precisely")
    func differences() throws {
        let csv = """
            id,Sex,cholesterol,temp,smoking,y
            1,M,5.2,37,never,0
            2,F,6.1,37.5,sometimes,1
            3,X,5.5,38,sometimes,0
            4,M,4.9,36.9,never,1
            """
        let mapping = SchemaMapping(rename: ["Sex": "sex", "Chol": "chol"], recode: ["sex": ["M": "male", "F": "female"]])
        let error = try #require(throws: AnalyticsError.self) {
            try SchemaMapper.apply(mapping, to: Array(csv.utf8), schema: Self.schema, source: "site.csv")
        }
        #expect(error.code == .schemaMismatch)
        let d = try #require(error.differences)
        #expect(d.missingColumns.map(\.column) == ["chol", "smoker"])
        #expect(d.missingColumns.first { $0.column == "chol" }?.candidate == "cholesterol")
        #expect(d.missingColumns.first { $0.column == "smoker" }?.candidate == "smoking")
        #expect(d.unexpectedColumns == ["cholesterol", "smoking"])
        #expect(d.unknownCategories["sex"] == ["X": 1])
        #expect(d.mapping.contains { $0.contains("Chol") })
        #expect(error.message.contains("missing column 'chol'") && error.message.contains("'X' x1"))
    }

    @Test("Values in the wrong unit are caught with a suggested conversion")
    func unitSuggestion() throws {
        let csv = "id,sex,chol,temp,smoker,y\n" + (0..<20).map { "\($0),male,\(4.0 + Double($0) * 0.1),37,never,0" }.joined(separator: "\n")
        let error = try #require(throws: AnalyticsError.self) {
            try SchemaMapper.apply(.identity, to: Array(csv.utf8), schema: Self.schema, source: "s.csv")
        }
        let unit = try #require(error.differences?.units.first)
        #expect(unit.contains("chol") && unit.contains("mmol/l") && unit.contains("analyte: cholesterol"), "\(unit)")
        // A conversion into a unit the schema does not use is refused.
        let wrong = SchemaMapping(convert: ["chol": UnitConversion(from: "mg/dL", to: "mmol/L", analyte: "cholesterol")])
        let e2 = try #require(throws: AnalyticsError.self) { try SchemaMapper.apply(wrong, to: Array(csv.utf8), schema: Self.schema, source: "s.csv") }
        #expect(e2.differences?.units.contains { $0.contains("schema's unit is mg/dL") } == true)
    }

    @Test("Unit conversions")
    func conversions() throws {
        func apply(_ c: UnitConversion, _ x: Double) throws -> Double {
            let (a, b) = try c.linear(column: "x")
            return a * x + b
        }
        #expect(abs(try apply(UnitConversion(from: "degF", to: "degC"), 212) - 100) < 1e-12)
        #expect(abs(try apply(UnitConversion(from: "°C", to: "°F"), 37) - 98.6) < 1e-12)
        #expect(abs(try apply(UnitConversion(from: "mg/dL", to: "mmol/L", analyte: "cholesterol"), 193.35) - 5) < 1e-9)
        #expect(abs(try apply(UnitConversion(from: "mg/dL", to: "µmol/L", analyte: "creatinine"), 1) - 88.42) < 1e-12)
        #expect(try apply(UnitConversion(scale: 2, offset: 1), 3) == 7)
        #expect(throws: AnalyticsError.self) { try UnitConversion(from: "mg/dL", to: "mmol/L").linear(column: "x") }
        #expect(throws: AnalyticsError.self) { try UnitConversion(from: "mg/dL", to: "kg").linear(column: "x") }
        #expect(throws: AnalyticsError.self) { try UnitConversion(from: "degF", to: "degC", scale: 2).linear(column: "x") }
    }
}
