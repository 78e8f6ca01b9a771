/// What a participant does in a project; carried in its certificate as the `OU` closest to the `CN`.
public enum Role: String, Codable, Sendable, CaseIterable {
    /// Runs the rounds and serves sites and admins (TLS server and client).
    case coordinator
    /// Holds data and trains locally (TLS client).
    case site
    /// Submits and manages jobs (TLS client).
    case admin

    /// The role's kit configuration file name.
    public var configFileName: String { "\(self.rawValue).yaml" }
}
