import Foundation
import GRDB

extension Row {
    /// A required text column holding a ``Timestamp``.
    func timestamp(_ column: String) throws -> Date {
        try Timestamp.date(try self.text(column))
    }

    /// An optional text column holding a ``Timestamp``.
    func optionalTimestamp(_ column: String) throws -> Date? {
        guard let text = self[column] as String? else { return nil }
        return try Timestamp.date(text)
    }

    /// A required text column.
    func text(_ column: String) throws -> String {
        guard let value = self[column] as String? else {
            throw StoreError(.database, "column '\(column)' is NULL or not text; the database was edited or is damaged")
        }
        return value
    }

    /// A required integer column.
    func integer(_ column: String) throws -> Int64 {
        guard let value = self[column] as Int64? else {
            throw StoreError(
                .database,
                "column '\(column)' is NULL or not an integer; the database was edited or is damaged"
            )
        }
        return value
    }
}
