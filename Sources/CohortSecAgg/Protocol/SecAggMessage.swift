#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Every message of the protocol, client to server and server to client.
///
/// Payloads are `Codable` structs, so a transport can serialise them in any format; ``wireByteCount`` gives the
/// size of a compact binary layout (see `SecAggMessage+WireSize.swift`), which is what the benchmarks report.
public enum SecAggMessage: Codable, Sendable, Hashable {
    /// Client → server: signed round keys.
    case advertiseKeys(AdvertiseKeys)
    /// Server → client: the advertised keys of the client's neighbours.
    case keyDirectory(KeyDirectory)
    /// Client → server: one encrypted share bundle per neighbour.
    case shareKeys(ShareKeys)
    /// Server → client: the share bundles addressed to it.
    case forwardedShares(ForwardedShares)
    /// Client → server: the masked, encoded input.
    case maskedInput(MaskedInput)
    /// Server → client: which neighbours survived and which dropped.
    case unmaskingRequest(UnmaskingRequest)
    /// Client → server: the shares that request asks for.
    case unmaskingResponse(UnmaskingResponse)

    /// The stage whose round trip the message belongs to (a client's message and the server's answer to it).
    public var stage: SecAggStage {
        switch self {
        case .advertiseKeys, .keyDirectory: .advertiseKeys
        case .shareKeys, .forwardedShares: .shareKeys
        case .maskedInput, .unmaskingRequest: .maskedInputCollection
        case .unmaskingResponse: .unmasking
        }
    }
}

/// A client's two round public keys (raw 32-byte X25519), signed with its long-term key.
public struct AdvertiseKeys: Codable, Sendable, Hashable {
    /// The sending participant.
    public var sender: String
    /// Public key for encrypting shares (c_u^PK).
    public var encryptionKey: [UInt8]
    /// Public key for pairwise mask agreement (s_u^PK).
    public var maskingKey: [UInt8]
    /// Long-term signature over the session, sender and both keys.
    public var signature: [UInt8]

    public init(sender: String, encryptionKey: [UInt8], maskingKey: [UInt8], signature: [UInt8]) {
        self.sender = sender
        self.encryptionKey = encryptionKey
        self.maskingKey = maskingKey
        self.signature = signature
    }
}

/// The advertised keys of a client's neighbours that took part in AdvertiseKeys.
public struct KeyDirectory: Codable, Sendable, Hashable {
    public var entries: [AdvertiseKeys]
    public init(entries: [AdvertiseKeys]) { self.entries = entries }
}

/// One encrypted share bundle (the shares of b_u and s_u^SK for one recipient).
public struct EncryptedShare: Codable, Sendable, Hashable {
    public var sender: String
    public var recipient: String
    /// AES-GCM `nonce ‖ ciphertext ‖ tag`.
    public var ciphertext: [UInt8]

    public init(sender: String, recipient: String, ciphertext: [UInt8]) {
        self.sender = sender
        self.recipient = recipient
        self.ciphertext = ciphertext
    }
}

/// A client's encrypted shares, one per neighbour.
public struct ShareKeys: Codable, Sendable, Hashable {
    public var sender: String
    public var shares: [EncryptedShare]
    public init(sender: String, shares: [EncryptedShare]) {
        self.sender = sender
        self.shares = shares
    }
}

/// The encrypted shares addressed to one client; their senders are the neighbours it masks with.
public struct ForwardedShares: Codable, Sendable, Hashable {
    public var shares: [EncryptedShare]
    public init(shares: [EncryptedShare]) { self.shares = shares }
}

/// A masked input vector: words modulo `2^modulusBits`, sent as `bytesPerWord` little-endian bytes each.
public struct MaskedInput: Codable, Sendable, Hashable {
    public var sender: String
    public var words: [UInt64]
    /// Bytes per word on the wire (`⌈modulusBits / 8⌉`).
    public var bytesPerWord: Int

    public init(sender: String, words: [UInt64], bytesPerWord: Int) {
        self.sender = sender
        self.words = words
        self.bytesPerWord = bytesPerWord
    }

    private enum CodingKeys: String, CodingKey { case sender, bytesPerWord, words }

    /// Encodes the words packed into `bytesPerWord` bytes each (base64 in JSON), not as a number array.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(self.sender, forKey: .sender)
        try c.encode(self.bytesPerWord, forKey: .bytesPerWord)
        try c.encode(Data(self.packedWords), forKey: .words)
    }

    /// The words packed little-endian into `bytesPerWord` bytes each: the wire form.
    public var packedWords: [UInt8] {
        var packed = [UInt8]()
        packed.reserveCapacity(self.words.count * self.bytesPerWord)
        for w in self.words {
            for b in 0..<self.bytesPerWord { packed.append(UInt8(truncatingIfNeeded: w >> (8 * b))) }
        }
        return packed
    }

    /// Reads words packed as ``packedWords`` writes them; nil if the width is not 1...8 or does not divide the bytes.
    public init?(sender: String, packed: some Collection<UInt8>, bytesPerWord width: Int) {
        guard (1...8).contains(width), packed.count % width == 0 else { return nil }
        let bytes = Array(packed)
        self.sender = sender
        self.bytesPerWord = width
        self.words = (0..<(bytes.count / width)).map { i in
            var w: UInt64 = 0
            for b in 0..<width { w |= UInt64(bytes[i * width + b]) << (8 * b) }
            return w
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let sender = try c.decode(String.self, forKey: .sender)
        let width = try c.decode(Int.self, forKey: .bytesPerWord)
        guard (1...8).contains(width) else {
            throw DecodingError.dataCorruptedError(forKey: .bytesPerWord, in: c, debugDescription: "bytesPerWord must be 1...8")
        }
        guard let decoded = MaskedInput(sender: sender, packed: try c.decode(Data.self, forKey: .words), bytesPerWord: width) else {
            throw DecodingError.dataCorruptedError(forKey: .words, in: c, debugDescription: "packed length")
        }
        self = decoded
    }
}

/// The server's view of a client's neighbourhood after masked-input collection.
///
/// An honest client answers with the self-mask-seed shares of `survivors` and the mask-key shares of `dropped`,
/// and refuses a request whose lists overlap or disagree with the neighbours it masked with.
public struct UnmaskingRequest: Codable, Sendable, Hashable {
    /// Members of the client's closed neighbourhood whose masked inputs arrived (including the client itself).
    public var survivors: [String]
    /// Neighbours that shared keys but sent no masked input.
    public var dropped: [String]
    public init(survivors: [String], dropped: [String]) {
        self.survivors = survivors
        self.dropped = dropped
    }
}

/// A share revealed in unmasking, with the participant whose secret it is a share of.
public struct RevealedShare: Codable, Sendable, Hashable {
    public var owner: String
    public var share: ShamirSecretSharing.Share
    public init(owner: String, share: ShamirSecretSharing.Share) {
        self.owner = owner
        self.share = share
    }
}

/// A client's answer to an ``UnmaskingRequest``.
public struct UnmaskingResponse: Codable, Sendable, Hashable {
    public var sender: String
    /// Shares of the self-mask seeds b_v of surviving neighbours.
    public var selfMaskShares: [RevealedShare]
    /// Shares of the mask keys s_v^SK of dropped neighbours.
    public var keyShares: [RevealedShare]
    public init(sender: String, selfMaskShares: [RevealedShare], keyShares: [RevealedShare]) {
        self.sender = sender
        self.selfMaskShares = selfMaskShares
        self.keyShares = keyShares
    }
}
