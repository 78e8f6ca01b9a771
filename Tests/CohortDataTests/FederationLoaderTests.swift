import CohortData
import CohortTesting
import Foundation
import Testing

@Suite("Federation directories")
struct FederationLoaderTests {
    static func csv(_ n: Int, offset: Int = 0) -> String {
        var s = "a,b,label\n"
        for i in 0..<n { s += "\(i + offset),\((i * 7) % 5),\(i % 2)\n" }
        return s
    }

    @Test("DIR/<site>_train.csv with optional _test.csv; sites in natural order; missing test files are split")
    func flatLayout() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("site10_train.csv", Self.csv(20))
        try dir.write("site2_train.csv", Self.csv(40))
        try dir.write("site2_test.csv", Self.csv(10))
        let f = try FederationLoader.directory(dir.url, options: .init(testFraction: 0.25, seed: 1))
        #expect(f.sites.map(\.name) == ["site2", "site10"])
        #expect(f.sites[0].test.rowCount == 10 && !f.sites[0].testWasSplit)
        #expect(f.sites[1].testWasSplit)
        // Stratified: round(0.25 * 10) = 3 rows of each class.
        #expect(f.sites[1].test.rowCount == 6 && f.sites[1].train.rowCount == 14)
        #expect(f.schemaSource == "inferred")
    }

    @Test("DIR/<site>/train.csv layout and DIR/schema.yaml are picked up")
    func nestedLayout() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("alpha/train.csv", Self.csv(12))
        try dir.write("alpha/test.csv", Self.csv(6))
        try dir.write("beta/train.csv", Self.csv(12))
        try dir.write("schema.yaml", "columns:\n  - {name: a, type: numeric}\n  - {name: b, type: numeric}\n  - {name: label, type: binary, role: label}\n")
        let f = try FederationLoader.directory(dir.url)
        #expect(f.sites.map(\.name) == ["alpha", "beta"])
        #expect(f.schemaSource.hasSuffix("schema.yaml"))
    }

    @Test("an error in one site's file names that file and line")
    func namesTheFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("good_train.csv", Self.csv(10))
        try dir.write("bad_train.csv", "a,b,label\n1,2,1\n3,x,0\n")
        try dir.write("schema.yaml", "columns:\n  - {name: a, type: numeric}\n  - {name: b, type: numeric}\n  - {name: label, type: binary, role: label}\n")
        let e = #expect(throws: DataError.self) { try FederationLoader.directory(dir.url) }
        #expect(e?.file?.hasSuffix("bad_train.csv") == true)
        #expect(e?.line == 3)
        #expect(e?.column == "b")
    }

    @Test("an empty directory says what layout is expected")
    func empty() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let e = #expect(throws: DataError.self) { try FederationLoader.directory(dir.url) }
        #expect(e?.hint?.contains("_train.csv") == true)
    }
}
