import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Authenticated encryption of a client's two shares for one neighbour (AES-256-GCM).
///
/// The plaintext is the 8 field elements of the self-mask-seed share followed by the 8 of the mask-key share, each
/// as 8 little-endian bytes; the ciphertext is `nonce ‖ ciphertext ‖ tag` (12 + 128 + 16 bytes). The associated
/// data binds the session, sender and recipient (``KeyDerivation/shareAssociatedData(session:sender:recipient:)``).
enum ShareCipher {
    static let plaintextBytes = 2 * ShamirSecretSharing.elementsPerSecret * 8

    static func seal(
        selfMaskShare: [UInt64], keyShare: [UInt64], key: SymmetricKey, nonce: [UInt8], associatedData: [UInt8]
    ) throws(SecAggError) -> [UInt8] {
        var plaintext = [UInt8]()
        plaintext.reserveCapacity(Self.plaintextBytes)
        for e in selfMaskShare + keyShare {
            for b in 0..<8 { plaintext.append(UInt8(truncatingIfNeeded: e >> (8 * b))) }
        }
        do {
            let box = try AES.GCM.seal(plaintext, using: key, nonce: AES.GCM.Nonce(data: nonce), authenticating: associatedData)
            guard let combined = box.combined else { throw SecAggError(code: .invalidKey, message: "AES-GCM nonce size") }
            return Array(combined)
        } catch let error as SecAggError {
            throw error
        } catch {
            throw SecAggError(code: .invalidKey, message: "AES-GCM seal failed: \(error)")
        }
    }

    /// Decrypts and parses the two shares' elements.
    ///
    /// - Throws: ``SecAggError/Code/authenticationFailed`` if the tag does not verify (tampered, misrouted or from
    ///   another session); ``SecAggError/Code/malformedShare`` if the plaintext has the wrong size or an element
    ///   outside the field.
    static func open(_ combined: [UInt8], key: SymmetricKey, associatedData: [UInt8]) throws(SecAggError) -> (selfMask: [UInt64], key: [UInt64]) {
        let plaintext: Data
        do {
            let box = try AES.GCM.SealedBox(combined: combined)
            plaintext = try AES.GCM.open(box, using: key, authenticating: associatedData)
        } catch {
            throw SecAggError(code: .authenticationFailed, message: "encrypted share failed authentication")
        }
        guard plaintext.count == Self.plaintextBytes else {
            throw SecAggError(code: .malformedShare, message: "share plaintext has \(plaintext.count) bytes")
        }
        let bytes = Array(plaintext)
        var elements = [UInt64]()
        elements.reserveCapacity(2 * ShamirSecretSharing.elementsPerSecret)
        for i in 0..<(2 * ShamirSecretSharing.elementsPerSecret) {
            var e: UInt64 = 0
            for b in 0..<8 { e |= UInt64(bytes[8 * i + b]) << (8 * b) }
            guard e < ShamirSecretSharing.prime else { throw SecAggError(code: .malformedShare, message: "share element outside the field") }
            elements.append(e)
        }
        let half = ShamirSecretSharing.elementsPerSecret
        return (Array(elements[0..<half]), Array(elements[half...]))
    }
}
