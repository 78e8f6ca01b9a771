public import Foundation

/// The participants of a federated project and where the coordinator listens: the input of provisioning.
///
/// ```yaml
/// name: hospital-net                 # project name
/// coordinator:
///   name: coordinator                # certificate CN (default "coordinator")
///   host: localhost                  # DNS name (or IP) sites dial; goes in the certificate's SAN
///   addresses: [127.0.0.1]           # extra IP SANs (optional)
///   port: 7443                       # default 7443
/// sites:
///   - {name: hospital-01, organization: "Hospital One"}
/// admins:
///   - {name: alice, organization: "Research Centre"}
/// aggregators:                       # optional regional tier
///   - {name: region-north, host: agg-north.example.org, port: 7444, sites: [hospital-01]}
/// validity_days: 365                 # participant certificates (default 365)
/// ca_validity_days: 3650             # the project CA (default 3650)
/// ```
/// Unknown keys are errors. `organization` defaults to the project name. A site listed under an aggregator connects
/// to that aggregator instead of the coordinator; the aggregator joins the coordinator in the region's name.
public struct ProjectDefinition: Codable, Sendable, Hashable {
    /// The coordinator entry.
    public struct Coordinator: Codable, Sendable, Hashable {
        public var name: String
        public var organization: String?
        /// The DNS name (or IP literal) sites and admins dial.
        public var host: String
        /// Extra IP addresses for the certificate's SAN.
        public var addresses: [String]
        public var port: Int

        enum CodingKeys: String, CodingKey, CaseIterable { case name, organization, host, addresses, port }

        public init(name: String = "coordinator", organization: String? = nil, host: String = "localhost",
                    addresses: [String] = [], port: Int = 7443) {
            self.name = name
            self.organization = organization
            self.host = host
            self.addresses = addresses
            self.port = port
        }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.name = try c.decodeIfPresent(String.self, forKey: .name) ?? "coordinator"
            self.organization = try c.decodeIfPresent(String.self, forKey: .organization)
            self.host = try c.decodeIfPresent(String.self, forKey: .host) ?? "localhost"
            self.addresses = try c.decodeIfPresent([String].self, forKey: .addresses) ?? []
            self.port = try c.decodeIfPresent(Int.self, forKey: .port) ?? 7443
        }
    }

    /// A site or admin entry.
    public struct Member: Codable, Sendable, Hashable {
        public var name: String
        public var organization: String?

        enum CodingKeys: String, CodingKey, CaseIterable { case name, organization }

        public init(name: String, organization: String? = nil) {
            self.name = name
            self.organization = organization
        }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.name = try c.decode(String.self, forKey: .name)
            self.organization = try c.decodeIfPresent(String.self, forKey: .organization)
        }
    }

    /// A regional aggregator: a coordinator to `sites` and a site to the project's coordinator.
    public struct Aggregator: Codable, Sendable, Hashable {
        public var name: String
        public var organization: String?
        /// The DNS name (or IP literal) the region's sites dial.
        public var host: String
        /// Extra IP addresses for the certificate's SAN.
        public var addresses: [String]
        public var port: Int
        /// The region's sites (each must be in `sites`, and in at most one region).
        public var sites: [String]

        enum CodingKeys: String, CodingKey, CaseIterable { case name, organization, host, addresses, port, sites }

        public init(name: String, organization: String? = nil, host: String = "localhost", addresses: [String] = [],
                    port: Int, sites: [String]) {
            self.name = name
            self.organization = organization
            self.host = host
            self.addresses = addresses
            self.port = port
            self.sites = sites
        }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.name = try c.decode(String.self, forKey: .name)
            self.organization = try c.decodeIfPresent(String.self, forKey: .organization)
            self.host = try c.decodeIfPresent(String.self, forKey: .host) ?? "localhost"
            self.addresses = try c.decodeIfPresent([String].self, forKey: .addresses) ?? []
            self.port = try c.decode(Int.self, forKey: .port)
            self.sites = try c.decodeIfPresent([String].self, forKey: .sites) ?? []
        }
    }

    /// A participant with its role and resolved organization.
    public struct Participant: Sendable, Hashable {
        public var name: String
        public var role: Role
        public var organization: String
    }

    public static let defaultValidityDays = 365
    public static let defaultCAValidityDays = 3650

    public var name: String
    public var coordinator: Coordinator
    public var sites: [Member]
    public var admins: [Member]
    /// Regional aggregators (optional).
    public var aggregators: [Aggregator]
    /// Validity of participant certificates in days (default 365).
    public var validityDays: Int?
    /// Validity of the project CA in days (default 3650).
    public var caValidityDays: Int?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, coordinator, sites, admins, aggregators
        case validityDays = "validity_days"
        case caValidityDays = "ca_validity_days"
    }

    public init(name: String, coordinator: Coordinator = Coordinator(), sites: [Member], admins: [Member] = [],
                aggregators: [Aggregator] = [], validityDays: Int? = nil, caValidityDays: Int? = nil) {
        self.name = name
        self.coordinator = coordinator
        self.sites = sites
        self.admins = admins
        self.aggregators = aggregators
        self.validityDays = validityDays
        self.caValidityDays = caValidityDays
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.name = try c.decode(String.self, forKey: .name)
        self.coordinator = try c.decodeIfPresent(Coordinator.self, forKey: .coordinator) ?? Coordinator()
        self.sites = try c.decodeIfPresent([Member].self, forKey: .sites) ?? []
        self.admins = try c.decodeIfPresent([Member].self, forKey: .admins) ?? []
        self.aggregators = try c.decodeIfPresent([Aggregator].self, forKey: .aggregators) ?? []
        self.validityDays = try c.decodeIfPresent(Int.self, forKey: .validityDays)
        self.caValidityDays = try c.decodeIfPresent(Int.self, forKey: .caValidityDays)
    }

    /// Participant certificate validity in days.
    public var participantValidityDays: Int { self.validityDays ?? Self.defaultValidityDays }

    /// CA certificate validity in days.
    public var authorityValidityDays: Int { self.caValidityDays ?? Self.defaultCAValidityDays }

    /// Every participant: the coordinator, then aggregators, sites and admins.
    public var participants: [Participant] {
        [Participant(name: self.coordinator.name, role: .coordinator,
                     organization: self.coordinator.organization ?? self.name)]
            + self.aggregators.map { Participant(name: $0.name, role: .aggregator, organization: $0.organization ?? self.name) }
            + self.sites.map { Participant(name: $0.name, role: .site, organization: $0.organization ?? self.name) }
            + self.admins.map { Participant(name: $0.name, role: .admin, organization: $0.organization ?? self.name) }
    }

    /// The participant with a name (case-insensitive, as names must be unique regardless of case).
    public func participant(named name: String) -> Participant? {
        self.participants.first { $0.name.lowercased() == name.lowercased() }
    }

    /// The aggregator whose region holds `site`, if any.
    public func aggregator(serving site: String) -> Aggregator? {
        self.aggregators.first { $0.sites.contains { $0.lowercased() == site.lowercased() } }
    }

    /// Parses and validates a project definition from YAML text; `source` names the file in errors.
    public static func parse(yaml: String, source: String) throws(PKIError) -> ProjectDefinition {
        let project = try ConfigCoding.decode(Self.self, yaml: yaml, source: source, code: .invalidProject)
        try project.validate(source: source)
        return project
    }

    /// Loads and validates `project.yaml`.
    public static func load(from url: URL) throws(PKIError) -> ProjectDefinition {
        try Self.parse(yaml: ConfigCoding.read(url, what: "project file"), source: url.path)
    }
}
