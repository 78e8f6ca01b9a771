import CohortData
import Testing

@Suite("CSV parser")
struct CSVParserTests {
    func parse(_ s: String) throws -> [CSVParser.Record] { try CSVParser.parse(Array(s.utf8), file: "t.csv") }

    @Test("quotes, escaped quotes, embedded delimiters and newlines, CRLF, BOM, blank lines")
    func dialect() throws {
        let text = "\u{FEFF}a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\r\n\r\n2, spaced ,\"multi\nline\"\n3,,\n"
        let r = try parse(text)
        #expect(r.map(\.fields) == [["a", "b", "c"], ["1", "x, y", "say \"hi\""], ["2", "spaced", "multi\nline"], ["3", "", ""]])
        #expect(r.map(\.line) == [1, 2, 4, 6])
    }

    @Test("a file without a final newline keeps its last row")
    func noFinalNewline() throws {
        #expect(try parse("a,b\n1,2").map(\.fields) == [["a", "b"], ["1", "2"]])
    }

    @Test("an unterminated quote names the line it starts on")
    func unterminated() {
        let e = #expect(throws: DataError.self) { try parse("a,b\n1,2\n3,\"oops\n4,5\n") }
        #expect(e?.line == 3)
        #expect(e?.file == "t.csv")
        #expect(e?.code == .malformedCSV)
    }

    @Test("escaping for output round-trips through the parser")
    func escape() throws {
        let fields = ["plain", "with,comma", "with \"quote\"", "new\nline", " lead"]
        let line = fields.map { CSVParser.escape($0) }.joined(separator: ",")
        #expect(try parse(line + "\n").first?.fields == fields)
    }
}
