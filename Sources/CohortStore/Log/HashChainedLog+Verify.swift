import GRDB

extension HashChainedLog {
    /// Checks the whole chain in one read snapshot and reports the first problem, if any.
    ///
    /// ## Rules
    /// Entries are read in ascending sequence order. Entry `e` is *good* when its sequence is `previous + 1`, its
    /// stored hash equals the hash of its contents at sequence `e` ("self-valid"), and its `previousHash` equals the
    /// stored hash of the entry before it (64 zeros for the first). At the first entry that is not good:
    ///
    /// 1. Its sequence skips numbers: `.deleted(after: last good)`. (A first entry with a sequence below 1:
    ///    `.inserted(that sequence)`.)
    /// 2. Its columns cannot be read (NULL, wrong type, `content_hashes` not a JSON string array): `.edited(e)`.
    /// 3. It is not self-valid: the verifier looks for the sequence number `s` at which its contents do hash to its
    ///    stored hash (trying the predecessor named by its `previousHash`, plus one, then every number up to the
    ///    largest stored or head sequence plus the number of entries). None: `.edited(e)` (contents changed after
    ///    hashing). Found, but another stored entry has the same hash: `.edited(e)` (replaced by a copy). Found and
    ///    still chained to entry `e - 1`: `.edited(e)` (renumbered in place; needs a forged predecessor). Otherwise
    ///    the entry is genuine but was renumbered from `s` to `e`; go on with step 4.
    /// 4. The entry is genuine (self-valid, or renumbered) but its `previousHash` does not name entry `e - 1`. Let
    ///    `p` be the sequence of the stored entry whose hash it names (0 for 64 zeros):
    ///    - no stored entry has that hash: `.deleted(after: e - 1)`: what it was chained to is gone. This is also
    ///      how entry `e - 1` looks when it was edited *and* its own hash recomputed: the original is gone;
    ///    - `p < e - 1`: `.inserted(p + 1)` (entries `p + 1 ..< e` were put between it and its predecessor);
    ///    - `p >= e`: `.reordered(e)` (it was chained after an entry that now comes later).
    /// 5. All entries good, then the stored head (`chain_head`) is compared with the last entry `n`: head missing or
    ///    hash different at the same sequence: `.headMismatch`; head beyond `n`: `.deleted(after: n)` (tail cut off);
    ///    head before `n` and matching the entry at its sequence: `.inserted(head + 1)`, otherwise `.headMismatch`.
    /// 6. With an `anchor` (a head recorded earlier outside the database): the entry at its sequence must exist and
    ///    have its hash; missing: `.deleted(after: n)`; different: `.edited(anchor.sequence)`.
    ///
    /// ## Limits
    /// Detection is certain, the kind is an inference: an edit, deletion, insertion or move is always reported
    /// unless whoever made it also recomputed the hash of every later entry and updated `chain_head`; which kind is
    /// reported is the best explanation of what the data shows (see the note in step 4).
    ///
    /// The hashes are not keyed or signed. Someone who can write the database file and knows this format can make
    /// such a consistent rewrite from any entry on, append forged entries at the end, or put back an older copy of
    /// the whole file; none of that is detectable from the file alone. Keep anchors outside the database (step 6)
    /// to detect it; the report then names the anchored entry, which may be later than the first rewritten one.
    ///
    /// A valid log costs one pass over the table; classifying a problem costs up to two more scans and a few
    /// hashes per stored entry.
    public func verify(anchor: LogAnchor? = nil) throws -> LogVerification {
        try self.read { db in
            try ChainVerifier(table: self.table, db: db).run(anchor: anchor)
        }
    }
}

/// The verification pass of ``HashChainedLog/verify(anchor:)`` over one read transaction.
private struct ChainVerifier {
    let table: String
    let db: Database

    func run(anchor: LogAnchor?) throws -> LogVerification {
        var count: Int64 = 0
        var last = LogAnchor(sequence: 0, entryHash: LogEntry.genesisHash)
        func failed(_ problem: LogVerification.Problem) -> LogVerification {
            LogVerification(entryCount: count, head: last, problem: problem)
        }

        let rows = try Row.fetchCursor(self.db, sql: "SELECT * FROM \"\(self.table)\" ORDER BY sequence")
        while let row = try rows.next() {
            count += 1
            let expected = last.sequence + 1
            let sequence: Int64 = row["sequence"]
            if sequence > expected {
                let missing = expected == sequence - 1 ? "\(expected) is" : "\(expected)...\(sequence - 1) are"
                return failed(.deleted(after: last.sequence, detail: "entries \(missing) missing"))
            }
            if sequence < expected {
                return failed(.inserted(sequence, detail: "sequence numbers start at 1"))
            }
            guard let entry = HashChainedLog.entry(row) else {
                return failed(.edited(sequence, detail: "a column is missing, NULL or malformed"))
            }
            if entry.hasValidHash && entry.previousHash == last.entryHash {
                last = LogAnchor(sequence: sequence, entryHash: entry.entryHash)
                continue
            }
            return failed(try self.classify(entry, after: last))
        }

        if let problem = try self.checkHead(last: last) ?? self.check(anchor: anchor, last: last) {
            return failed(problem)
        }
        return LogVerification(entryCount: count, head: last, problem: nil)
    }

    /// Explains the first entry that is not good (steps 3 and 4).
    private func classify(_ entry: LogEntry, after last: LogAnchor) throws -> LogVerification.Problem {
        let e = entry.sequence
        let predecessor: Int64? =
            entry.previousHash == LogEntry.genesisHash ? 0 : try self.sequence(withHash: entry.previousHash)
        var origin = ""
        if !entry.hasValidHash {
            guard let original = try self.originalSequence(of: entry, predecessor: predecessor) else {
                return .edited(e, detail: "its hash does not match its contents")
            }
            if let copy = try self.sequence(withHash: entry.entryHash, excluding: e) {
                return .edited(e, detail: "it was replaced by a copy of entry \(copy)")
            }
            origin = " (it was entry \(original))"
            if entry.previousHash == last.entryHash {
                return .edited(e, detail: "it is genuine entry \(original) renumbered in place")
            }
        }
        guard let p = predecessor else {
            return .deleted(
                after: e - 1,
                detail: "entry \(e)\(origin) is chained to an entry that is no longer in the log"
            )
        }
        if p < e - 1 {
            return .inserted(
                p + 1,
                detail: "entry \(e)\(origin) is chained to entry \(p); entries \(p + 1)...\(e - 1) were inserted"
            )
        }
        return .reordered(e, detail: "entry \(e)\(origin) is chained to entry \(p), which comes after it")
    }

    /// The sequence at which `entry`'s contents hash to its stored hash, if any.
    private func originalSequence(of entry: LogEntry, predecessor: Int64?) throws -> Int64? {
        if let p = predecessor, entry.recomputedHash(sequence: p + 1) == entry.entryHash {
            return p + 1
        }
        let row = try Row.fetchOne(
            self.db,
            sql: "SELECT MAX(sequence) AS maximum, COUNT(*) AS count FROM \"\(self.table)\""
        )
        let maximum: Int64 = row?["maximum"] ?? 0
        let count: Int64 = row?["count"] ?? 0
        let head = try HashChainedLog.head(of: self.table, in: self.db)?.sequence ?? 0
        let upper = max(maximum, head, 0) + count + 1
        guard upper >= 1 else { return nil }
        for s in 1...upper where s != entry.sequence && entry.recomputedHash(sequence: s) == entry.entryHash {
            return s
        }
        return nil
    }

    /// The smallest sequence (other than `excluded`) of a stored entry with hash `hash`.
    private func sequence(withHash hash: String, excluding excluded: Int64? = nil) throws -> Int64? {
        try Int64.fetchOne(
            self.db,
            sql: "SELECT MIN(sequence) FROM \"\(self.table)\" WHERE entry_hash = ? AND sequence IS NOT ?",
            arguments: [hash, excluded]
        )
    }

    /// Step 5: the stored head against the last entry.
    private func checkHead(last: LogAnchor) throws -> LogVerification.Problem? {
        guard let head = try HashChainedLog.head(of: self.table, in: self.db) else {
            return .headMismatch(last.sequence, detail: "the head record in chain_head is missing")
        }
        if head.sequence > last.sequence {
            return .deleted(
                after: last.sequence,
                detail: "the head record says the log ends at entry \(head.sequence); entries after "
                    + "\(last.sequence) are missing"
            )
        }
        if head.sequence < last.sequence {
            if try self.hash(at: head.sequence) == head.entryHash {
                return .inserted(
                    head.sequence + 1,
                    detail: "entries after the recorded head (\(head.sequence)) were added without updating it"
                )
            }
            return .headMismatch(
                head.sequence,
                detail: "the head record names entry \(head.sequence) with another hash"
            )
        }
        if head.entryHash != last.entryHash {
            return .headMismatch(
                last.sequence,
                detail: "the head record's hash differs from entry \(last.sequence)'s: one of them was changed"
            )
        }
        return nil
    }

    /// Step 6: an externally kept anchor.
    private func check(anchor: LogAnchor?, last: LogAnchor) throws -> LogVerification.Problem? {
        guard let anchor else { return nil }
        if anchor.sequence > last.sequence {
            return .deleted(
                after: last.sequence,
                detail: "the anchor names entry \(anchor.sequence) but the log ends at \(last.sequence)"
            )
        }
        if try self.hash(at: anchor.sequence) != anchor.entryHash {
            return .edited(
                anchor.sequence,
                detail: "its hash differs from the anchor kept outside the database: the log was rewritten from this "
                    + "entry or an earlier one"
            )
        }
        return nil
    }

    private func hash(at sequence: Int64) throws -> String? {
        if sequence == 0 { return LogEntry.genesisHash }
        return try String.fetchOne(
            self.db,
            sql: "SELECT entry_hash FROM \"\(self.table)\" WHERE sequence = ?",
            arguments: [sequence]
        )
    }
}
