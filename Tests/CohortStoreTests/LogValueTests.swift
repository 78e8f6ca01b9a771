import CohortStore
import Foundation
import Testing

@Suite("LogValue")
struct LogValueTests {
    @Test("Canonical JSON sorts keys by UTF-8 bytes and has no whitespace")
    func canonicalOrder() throws {
        let text = try LogValue.canonicalJSON(["b": 1, "a": 2, "B": 3, "é": 4, "aa": [1, 2]])
        #expect(text == #"{"B":3,"a":2,"aa":[1,2],"b":1,"é":4}"#)
    }

    @Test(
        "Strings are escaped minimally",
        arguments: [
            ("plain", #""plain""#),
            ("q\"b\\", #""q\"b\\""#),
            ("\n\t\r\u{8}\u{c}", #""\n\t\r\b\f""#),
            ("\u{1}\u{1f}", #""\u0001\u001f""#),
            ("a/ü→", #""a/ü→""#),
        ]
    )
    func escaping(input: String, expected: String) throws {
        #expect(try LogValue.string(input).canonicalJSON() == expected)
    }

    @Test("Numbers: integers exact, doubles shortest; non-finite refused")
    func numbers() throws {
        #expect(
            try LogValue.canonicalJSON(["i": .int(-9_007_199_254_740_993), "d": 0.1, "e": 3.0])
                == #"{"d":0.1,"e":3.0,"i":-9007199254740993}"#
        )
        expectStoreError(.invalidArgument) { _ = try LogValue.double(.infinity).canonicalJSON() }
    }

    @Test("Canonical text decodes back to the same value")
    func roundTrip() throws {
        let value: [String: LogValue] = ["a": [true, false, nil], "n": 42, "x": 2.5, "s": "t", "o": ["k": "v"]]
        let text = try LogValue.canonicalJSON(value)
        #expect(try JSONDecoder().decode([String: LogValue].self, from: Data(text.utf8)) == value)
    }
}
