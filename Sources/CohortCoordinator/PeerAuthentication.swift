import CohortStore
import CohortPKI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftASN1
import X509

extension CoordinatorContext {
    /// The verified identity of the caller: the client certificate TLS verified against the project CA, checked for
    /// validity, revocation and role. Every RPC starts here; nothing a message claims about its sender is trusted.
    /// A call for `.site` also admits an aggregator, which joins the federation for its region.
    func authenticate(_ context: ServerContext, role: Role) async throws -> PeerIdentity {
        guard let tls = context.transportSpecific as? HTTP2ServerTransport.Posix.Context, let cert = tls.peerCertificate else {
            throw RPCError(code: .unauthenticated, message: "no verified client certificate; connect with the certificate from your startup kit")
        }
        let identity: PeerIdentity
        do { identity = try self.verifier.identity(of: cert) } catch {
            self.records.audit("coordinator", "connection.refused", ["peer": .string(context.remotePeer), "reason": .string("\(error)")])
            throw RPCError(code: .permissionDenied, message: "certificate refused: \(error)")
        }
        if await self.revocations.isRevoked(identity.fingerprint) {
            self.records.audit("coordinator", "connection.refused", ["peer": .string(context.remotePeer), "name": .string(identity.name),
                                                                    "reason": "revoked certificate"])
            throw RPCError(code: .permissionDenied, message: "the certificate of '\(identity.name)' has been revoked; ask the project admin for a new startup kit")
        }
        guard identity.role == role || (role == .site && identity.role.joinsFederation) else {
            self.records.audit(identity.name, "call.refused", ["method": .string(context.descriptor.fullyQualifiedMethod),
                                                               "reason": .string("role \(identity.role.rawValue) may not call this")])
            throw RPCError(code: .permissionDenied,
                           message: "a \(identity.role.rawValue) certificate may not call \(context.descriptor.fullyQualifiedMethod); this needs a \(role.rawValue) certificate")
        }
        return identity
    }

    /// The caller's client certificate in DER (after ``authenticate(_:role:)`` checked it).
    func peerCertificateDER(_ context: ServerContext) -> [UInt8]? {
        guard let tls = context.transportSpecific as? HTTP2ServerTransport.Posix.Context, let cert = tls.peerCertificate else { return nil }
        var serializer = DER.Serializer()
        do { try serializer.serialize(cert) } catch { return nil }
        return serializer.serializedBytes
    }

    /// Refuses a message whose claimed sender differs from the certificate (and audits the attempt).
    func requireSame(claimed: String, identity: PeerIdentity, method: String) throws {
        guard claimed == identity.name else {
            self.records.audit(identity.name, "message.refused", ["method": .string(method), "claimed": .string(claimed),
                                                                  "reason": "identity mismatch"])
            throw RPCError(code: .permissionDenied,
                           message: "message claims to come from '\(claimed)' but the certificate belongs to '\(identity.name)'")
        }
    }

    /// Refuses a message larger than `max_message_bytes`, telling the sender the limit (the transport's own hard
    /// limit, four times larger, only resets the stream).
    func requireSize(_ size: Int, method: String, sender: String) throws {
        guard size <= self.config.maxMessageBytes else {
            self.records.audit(sender, "message.refused", ["method": .string(method), "bytes": .int(Int64(size)), "reason": "too large"])
            throw RPCError(code: .resourceExhausted,
                           message: "a \(method) message of \(size) bytes exceeds this coordinator's max_message_bytes of \(self.config.maxMessageBytes); updates larger than that must be sent in chunks")
        }
    }

    /// Refuses a request naming a site that is not connected.
    func requireConnected(_ sites: [String]) async throws {
        let connected = await self.registry.connected
        if let missing = sites.first(where: { !connected.contains($0) }) {
            throw RPCError(code: .failedPrecondition, message: "site \(missing) is not connected; `cohort status` lists the connected sites")
        }
    }

    /// Refuses an incompatible protocol version with the versions this coordinator accepts.
    func requireProtocol(_ version: UInt32, minimum: UInt32 = 0, software: String = "") throws {
        if let reason = WireProtocolCheck.incompatibility(version, minimum, software) {
            throw RPCError(code: .failedPrecondition, message: reason)
        }
    }
}

import CohortWire

enum WireProtocolCheck {
    static func incompatibility(_ version: UInt32, _ minimum: UInt32, _ software: String) -> String? {
        WireProtocol.incompatibility(peerProtocol: version, peerMinimum: minimum, peerSoftware: software)
    }
}
