/// What a participant does in a project; carried in its certificate as the `OU` closest to the `CN`.
public enum Role: String, Codable, Sendable, CaseIterable {
    /// Runs the rounds and serves sites and admins (TLS server and client).
    case coordinator
    /// Holds data and trains locally (TLS client).
    case site
    /// Submits and manages jobs (TLS client).
    case admin
    /// A regional tier: a coordinator to its region's sites and a site to its upstream (TLS server and client).
    case aggregator

    /// Whether the role's certificate also serves TLS (and names its hosts in the SAN).
    public var isServer: Bool { self == .coordinator || self == .aggregator }

    /// Whether the role may connect to a coordinator's federation service as a site (an aggregator connects for its
    /// region).
    public var joinsFederation: Bool { self == .site || self == .aggregator }

    /// The role's kit configuration file name.
    public var configFileName: String { "\(self.rawValue).yaml" }
}
