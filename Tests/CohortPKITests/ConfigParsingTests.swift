import CohortAnalytics
import Foundation
import Testing

@testable import CohortPKI

@Suite("Config parsing")
struct ConfigParsingTests {
    @Test("project.yaml errors name the file and the key", arguments: [
        ("name: p\nsites:\n  - {name: a}\n  - {name: b}\n  - {name: 'a b'}\n", "sites[2].name", "'a b' is not a valid participant name"),
        ("name: p\nsites: [{name: a}, {name: A}]\n", "sites[1].name", "already used by sites[0]"),
        ("name: p\nsites: [{name: coordinator}]\n", "sites[0].name", "already used by coordinator"),
        ("name: p\nsites: []\n", "sites", "no sites"),
        ("name: p\ncoordinator: {port: 70000}\nsites: [{name: a}]\n", "coordinator.port", "not a TCP port"),
        ("name: p\ncoordinator: {port: abc}\nsites: [{name: a}]\n", "coordinator.port", "expected an integer"),
        ("name: p\ncoordinator: {addresses: [10.0.0.300]}\nsites: [{name: a}]\n", "coordinator.addresses[0]", "not an IPv4"),
        ("name: p\nsites: [{name: a, organisation: X}]\n", "sites[0].organisation", "unknown key"),
        ("name: p\nsites: [{organization: X}]\n", "sites[0]", "missing required key 'name'"),
        ("sites: [{name: a}]\n", nil, "missing required key 'name'"),
        ("name: p\nsites: [{name: a}]\nvalidity_days: 0\n", "validity_days", "out of range"),
        ("name: 'bad name'\nsites: [{name: a}]\n", "name", "not a valid project name"),
        ("name: p\nsites: [{name: a}]\naggregators: [{name: r, port: 7444, sites: [b]}]\n", "aggregators[0].sites[0]", "not one of the project's sites"),
        ("name: p\nsites: [{name: a}]\naggregators: [{name: r, port: 7444, sites: [a]}, {name: s, port: 7445, sites: [a]}]\n",
         "aggregators[1].sites[0]", "already in the region of r"),
        ("name: p\nsites: [{name: a}]\naggregators: [{name: r, port: 0, sites: [a]}]\n", "aggregators[0].port", "not a TCP port"),
        ("name: p\nsites: [{name: a}]\naggregators: [{name: r, port: 7444, sites: []}]\n", "aggregators[0].sites", "has no sites"),
        ("name: p\nsites: [{name: a}]\naggregators: [{name: a, port: 7444, sites: [a]}]\n", "aggregators[0].name", "already used"),
    ] as [(String, String?, String)])
    func projectErrors(yaml: String, key: String?, message: String) throws {
        let error = expectPKIError(.invalidProject) { try ProjectDefinition.parse(yaml: yaml, source: "project.yaml") }
        #expect(error?.file == "project.yaml")
        #expect(error?.key == key)
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
        if let key { #expect(error?.description.hasPrefix("project.yaml: \(key): ") == true) }
    }

    @Test("The spec's example message")
    func exampleMessage() throws {
        let yaml = "name: p\nsites: [{name: a}, {name: b}, {name: 'a b'}]\n"
        let error = try #require(expectPKIError(.invalidProject) {
            try ProjectDefinition.parse(yaml: yaml, source: "project.yaml")
        })
        #expect(error.description.hasPrefix(
            "project.yaml: sites[2].name: 'a b' is not a valid participant name (letters, digits, '.', '_', '-'"))
    }

    @Test("project.yaml defaults")
    func projectDefaults() throws {
        let project = try ProjectDefinition.parse(yaml: "name: p\nsites: [{name: '001'}]\n", source: "p.yaml")
        #expect(project.coordinator == .init(name: "coordinator", host: "localhost", addresses: [], port: 7443))
        #expect(project.participantValidityDays == 365)
        #expect(project.authorityValidityDays == 3650)
        #expect(project.sites.map(\.name) == ["001"])
        #expect(project.participants.map(\.organization) == ["p", "p"])
        #expect(project.admins.isEmpty)
        // The rewritten form parses back to the same definition, even with names YAML would read as numbers.
        #expect(try ProjectDefinition.parse(yaml: project.yaml(), source: "p.yaml") == project)
    }

    @Test("Participant names follow the pattern")
    func names() {
        for valid in ["a", "A.b_c-d", "0", String(repeating: "x", count: 64)] {
            #expect(ParticipantName.isValid(valid), "\(valid)")
        }
        for invalid in ["", ".a", "-a", "_a", "a b", "a/b", "..", "é", String(repeating: "x", count: 65)] {
            #expect(!ParticipantName.isValid(invalid), "\(invalid)")
        }
    }

    @Test("site.yaml errors name the file and the key", arguments: [
        ("name: s\nproject: p\n", nil, "missing required key 'coordinator'"),
        ("name: s\nproject: p\ncoordinator: {port: 1}\n", "coordinator", "missing required key 'host'"),
        ("name: s\nproject: p\ncoordinator: {host: h}\nheartbeat_seconds: -1\n", "heartbeat_seconds", "positive"),
        ("name: s\nproject: p\ncoordinator: {host: h}\nheartbeat_seconds: often\n", "heartbeat_seconds", "expected a number"),
        ("name: s\nproject: p\ncoordinator: {host: h}\npolicy: {allowed_tasks: [train, dance]}\n",
         "policy.allowed_tasks[1]", "'dance' is not one of: train, evaluate, statistics"),
        ("name: s\nproject: p\ncoordinator: {host: h}\npolicy: {allowed_models: [cnn]}\n",
         "policy.allowed_models[0]", "'cnn' is not one of: logistic, softmax, mlp"),
        ("name: s\nproject: p\ncoordinator: {host: h}\npolicy: {max_epsilom: 1}\n", "policy.max_epsilom", "unknown key"),
        ("name: s\nproject: p\ncoordinator: {host: h}\npolicy: {psi: {allow_member: true}}\n", "policy.psi.allow_member", "unknown key"),
        ("name: s\nproject: p\ncoordinator: {host: h}\npolicy: {max_epsilon: 0}\n", "policy.max_epsilon", "positive"),
        ("name: s\nproject: p\ncoordinator: {host: h}\npolicy: {min_sites_per_aggregate: 0}\n",
         "policy.min_sites_per_aggregate", "at least 1"),
        ("name: s\nproject: p\ncoordinator: {host: h}\npolicy: {require_secure_aggregation: maybe}\n",
         "policy.require_secure_aggregation", "expected true or false"),
        ("name: s\nproject: p\ncoordinator: {host: h, port: 0}\n", "coordinator.port", "not a TCP port"),
        ("name: s\nproject: p\ncoordinator: {host: h}\n  bad: [\n", nil, "not valid YAML"),
    ] as [(String, String?, String)])
    func siteErrors(yaml: String, key: String?, message: String) throws {
        let error = expectPKIError(.invalidConfig) { try SiteConfig.parse(yaml: yaml, source: "kits/s/site.yaml") }
        #expect(error?.file == "kits/s/site.yaml")
        #expect(error?.key == key)
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }

    @Test("site.yaml defaults apply when optional keys are missing")
    func siteDefaults() throws {
        let config = try SiteConfig.parse(yaml: "name: s\nproject: p\ncoordinator: {host: h}\n", source: "site.yaml")
        #expect(config.coordinator == Endpoint(host: "h", port: 7443))
        #expect(config.stateDir == "state")
        #expect(config.heartbeatSeconds == 5)
        #expect(config.policy.allowedTasks == [.train, .evaluate])
        #expect(config.policy.allowedModels == [.logistic, .softmax, .mlp])
        #expect(config.policy.minSitesPerAggregate == 2)
        #expect(config.policy.maxRounds == 1000)
        #expect(config.policy.maxEpsilon == nil)
        #expect(config.policy.requireSecureAggregation == false)
        #expect(!config.policy.allows(SitePolicy.TaskKind.statistics))
        #expect(config.stateDirectory(kit: URL(fileURLWithPath: "/k")).path == "/k/state")
        let partial = try SiteConfig.parse(
            yaml: "name: s\nproject: p\ncoordinator: {host: h}\npolicy: {max_rounds: 5}\n", source: "site.yaml")
        #expect(partial.policy == SitePolicy(maxRounds: 5))
    }

    @Test("coordinator.yaml defaults and errors")
    func coordinatorConfig() throws {
        let config = try CoordinatorConfig.parse(yaml: "name: c\nproject: p\n", source: "coordinator.yaml")
        #expect(config.listen == .init(host: "0.0.0.0", port: 7443))
        #expect(config.publicHost == "localhost")
        #expect(config.stateDir == "state")
        #expect(config.heartbeatSeconds == 5)
        #expect(config.maxMessageBytes == 4 * 1024 * 1024)
        #expect(config.maxUpdateBytes == 2 * 1024 * 1024 * 1024)
        #expect(config.roundTimeoutSeconds == 600)
        #expect(config.stallTimeoutSeconds == 60)
        let error = expectPKIError(.invalidConfig) {
            try CoordinatorConfig.parse(yaml: "name: c\nproject: p\nlisten: {port: 99999}\n", source: "coordinator.yaml")
        }
        #expect(error?.description == "coordinator.yaml: listen.port: 99999 is not a TCP port (use 1...65535)")
        expectPKIError(.invalidConfig) {
            try CoordinatorConfig.parse(yaml: "name: c\nproject: p\nmax_message_bytes: 0\n", source: "coordinator.yaml")
        }
        expectPKIError(.invalidConfig) { try AdminConfig.parse(yaml: "name: a\nproject: p\n", source: "admin.yaml") }
    }

    @Test("Written configs parse back to the same values")
    func roundTrips() throws {
        let coordinator = CoordinatorConfig(
            name: "c", project: "p", listen: .init(host: "127.0.0.1", port: 9000), publicHost: "fl.example.org",
            stateDir: "/var/lib/cohort", heartbeatSeconds: 0.5, maxMessageBytes: 1024, maxUpdateBytes: 1 << 40,
            roundTimeoutSeconds: 30, stallTimeoutSeconds: 2.25)
        #expect(try CoordinatorConfig.parse(yaml: coordinator.yaml(), source: "c") == coordinator)
        let site = SiteConfig(
            name: "true", project: "p", coordinator: Endpoint(host: "::1", port: 1), stateDir: "st \"quoted\"",
            heartbeatSeconds: 3, policy: SitePolicy(allowedTasks: [.statistics], allowedModels: [], minSitesPerAggregate: 5,
                                                    maxRounds: 7, maxEpsilon: 0.75, requireSecureAggregation: true))
        #expect(try SiteConfig.parse(yaml: site.yaml(), source: "s") == site)
        var psiSite = site
        psiSite.policy.allowedTasks = [.psi]
        psiSite.policy.psi = PSIPolicy(allowMembers: true)
        #expect(try SiteConfig.parse(yaml: psiSite.yaml(), source: "s") == psiSite)
        let defaults = SiteConfig(name: "s", project: "p", coordinator: Endpoint(host: "h"))
        #expect(try SiteConfig.parse(yaml: defaults.yaml(), source: "s") == defaults)
        let admin = AdminConfig(name: "a", project: "p", coordinator: Endpoint(host: "h", port: 8443))
        #expect(try AdminConfig.parse(yaml: admin.yaml(), source: "a") == admin)
    }
}
