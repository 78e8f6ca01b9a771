/// A CSV parser (RFC 4180 plus common practice): a delimiter byte, double-quoted fields with `""` escapes and
/// embedded delimiters or newlines, LF or CRLF line ends, an optional UTF-8 byte-order mark. Spaces around unquoted
/// fields are trimmed; blank lines are skipped.
public enum CSVParser {
    /// One parsed record and the line it starts on (1-based).
    public struct Record: Sendable, Hashable {
        public var line: Int
        public var fields: [String]
    }

    /// Parses a whole file.
    public static func parse(_ bytes: [UInt8], delimiter: UInt8 = UInt8(ascii: ","), file: String) throws(DataError) -> [Record] {
        var records = [Record]()
        var fields = [String]()
        var field = [UInt8]()
        var i = 0
        var line = 1
        var recordLine = 1
        let n = bytes.count
        if n >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { i = 3 }
        let quote = UInt8(ascii: "\""), cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")
        var fieldWasQuoted = false
        var atFieldStart = true

        func finishField() {
            if fieldWasQuoted {
                fields.append(String(decoding: field, as: UTF8.self))
            } else {
                fields.append(Self.trimmed(field))
            }
            field.removeAll(keepingCapacity: true)
            fieldWasQuoted = false
            atFieldStart = true
        }
        func finishRecord() {
            finishField()
            if !(fields.count == 1 && fields[0].isEmpty) {
                records.append(Record(line: recordLine, fields: fields))
            }
            fields.removeAll(keepingCapacity: true)
        }

        while i < n {
            let b = bytes[i]
            if atFieldStart && b == quote {
                // Quoted field: read to the closing quote.
                fieldWasQuoted = true
                atFieldStart = false
                let startLine = line
                i += 1
                var closed = false
                while i < n {
                    let c = bytes[i]
                    if c == quote {
                        if i + 1 < n && bytes[i + 1] == quote {
                            field.append(quote)
                            i += 2
                            continue
                        }
                        closed = true
                        i += 1
                        break
                    }
                    if c == lf { line += 1 }
                    field.append(c)
                    i += 1
                }
                guard closed else {
                    throw DataError(.malformedCSV, file: file, line: startLine, "a quoted field is never closed",
                                    hint: "check for a stray double quote")
                }
                // Only spaces may follow the closing quote before the delimiter or line end.
                while i < n && bytes[i] == UInt8(ascii: " ") { i += 1 }
                if i < n && bytes[i] != delimiter && bytes[i] != lf && bytes[i] != cr {
                    throw DataError(.malformedCSV, file: file, line: line,
                                    "unexpected character after a closing quote", hint: "quotes inside a field must be doubled (\"\")")
                }
                continue
            }
            atFieldStart = false
            if b == delimiter {
                finishField()
                i += 1
            } else if b == lf || b == cr {
                finishRecord()
                if b == cr && i + 1 < n && bytes[i + 1] == lf { i += 1 }
                i += 1
                line += 1
                recordLine = line
            } else {
                field.append(b)
                i += 1
            }
        }
        if !atFieldStart || !fields.isEmpty || !field.isEmpty {
            finishRecord()
        }
        return records
    }

    static func trimmed(_ bytes: [UInt8]) -> String {
        var lo = 0, hi = bytes.count
        while lo < hi && (bytes[lo] == 0x20 || bytes[lo] == 0x09) { lo += 1 }
        while hi > lo && (bytes[hi - 1] == 0x20 || bytes[hi - 1] == 0x09) { hi -= 1 }
        return String(decoding: bytes[lo..<hi], as: UTF8.self)
    }

    /// Quotes a field for writing when it needs it.
    public static func escape(_ field: String, delimiter: Character = ",") -> String {
        if field.contains(delimiter) || field.contains("\"") || field.contains("\n") || field.contains("\r")
            || field.first == " " || field.last == " "
        {
            return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return field
    }
}

import Foundation
