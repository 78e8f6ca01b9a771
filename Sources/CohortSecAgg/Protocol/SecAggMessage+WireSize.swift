extension SecAggMessage {
    /// The size of the message in a compact binary layout: a 1-byte tag; strings as a 2-byte length and UTF-8;
    /// byte strings and arrays as a 4-byte length and their elements; field elements and share points as 8 bytes;
    /// masked words as `bytesPerWord` bytes each.
    public var wireByteCount: Int {
        1 + {
            switch self {
            case .advertiseKeys(let m): Self.size(m)
            case .keyDirectory(let m): 4 + m.entries.reduce(0) { $0 + Self.size($1) }
            case .shareKeys(let m): Self.size(m.sender) + 4 + m.shares.reduce(0) { $0 + Self.size($1) }
            case .forwardedShares(let m): 4 + m.shares.reduce(0) { $0 + Self.size($1) }
            case .maskedInput(let m): Self.size(m.sender) + 1 + 4 + m.words.count * m.bytesPerWord
            case .unmaskingRequest(let m): 8 + (m.survivors + m.dropped).reduce(0) { $0 + Self.size($1) }
            case .unmaskingResponse(let m):
                Self.size(m.sender) + 8 + (m.selfMaskShares + m.keyShares).reduce(0) { $0 + Self.size($1) }
            }
        }()
    }

    private static func size(_ s: String) -> Int { 2 + s.utf8.count }
    private static func size(_ b: [UInt8]) -> Int { 4 + b.count }
    private static func size(_ m: AdvertiseKeys) -> Int {
        Self.size(m.sender) + Self.size(m.encryptionKey) + Self.size(m.maskingKey) + Self.size(m.signature)
    }
    private static func size(_ s: EncryptedShare) -> Int { Self.size(s.sender) + Self.size(s.recipient) + Self.size(s.ciphertext) }
    private static func size(_ r: RevealedShare) -> Int { Self.size(r.owner) + 8 + 4 + 8 * r.share.y.count }
}
