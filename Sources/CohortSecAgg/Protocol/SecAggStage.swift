/// The four rounds of the protocol (Bonawitz et al., 2017, Figure 4), named by what clients send in them.
public enum SecAggStage: String, Codable, Sendable, Hashable, CaseIterable, Comparable {
    /// Clients advertise two signed X25519 public keys; the server answers each with its neighbours' keys.
    case advertiseKeys
    /// Clients send encrypted Shamir shares of their self-mask seed and mask key; the server forwards them.
    case shareKeys
    /// Clients send masked inputs; the server tells each which neighbours survived and which dropped.
    case maskedInputCollection
    /// Clients reveal the requested shares; the server reconstructs and removes the masks.
    case unmasking

    public static func < (lhs: SecAggStage, rhs: SecAggStage) -> Bool {
        Self.allCases.firstIndex(of: lhs)! < Self.allCases.firstIndex(of: rhs)!
    }
}
