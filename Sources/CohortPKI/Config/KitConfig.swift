public import Foundation

/// The role configuration of a startup kit: exactly one of `coordinator.yaml`, `site.yaml`, `admin.yaml`,
/// `aggregator.yaml`.
public enum KitConfig: Sendable, Hashable {
    case coordinator(CoordinatorConfig)
    case site(SiteConfig)
    case admin(AdminConfig)
    case aggregator(AggregatorConfig)

    /// The role the file declares.
    public var role: Role {
        switch self {
        case .coordinator: .coordinator
        case .site: .site
        case .admin: .admin
        case .aggregator: .aggregator
        }
    }

    /// The participant name (certificate CN).
    public var name: String {
        switch self {
        case .coordinator(let c): c.name
        case .site(let c): c.name
        case .admin(let c): c.name
        case .aggregator(let c): c.name
        }
    }

    /// The project name.
    public var project: String {
        switch self {
        case .coordinator(let c): c.project
        case .site(let c): c.project
        case .admin(let c): c.project
        case .aggregator(let c): c.project
        }
    }

    /// Loads the config file of `role` from `url`.
    public static func load(role: Role, from url: URL) throws(PKIError) -> KitConfig {
        switch role {
        case .coordinator: .coordinator(try CoordinatorConfig.load(from: url))
        case .site: .site(try SiteConfig.load(from: url))
        case .admin: .admin(try AdminConfig.load(from: url))
        case .aggregator: .aggregator(try AggregatorConfig.load(from: url))
        }
    }

    /// Commented YAML text of the config.
    public func yaml() -> String {
        switch self {
        case .coordinator(let c): c.yaml()
        case .site(let c): c.yaml()
        case .admin(let c): c.yaml()
        case .aggregator(let c): c.yaml()
        }
    }
}
