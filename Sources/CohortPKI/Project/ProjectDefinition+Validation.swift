import Foundation

extension ProjectDefinition {
    /// Checks names, uniqueness, the coordinator endpoint and validity periods.
    ///
    /// Errors name `source` and the key, e.g. `project.yaml: sites[2].name: 'a b' is not a valid participant name`.
    public func validate(source: String) throws(PKIError) {
        func fail(_ key: String?, _ message: String, hint: String? = nil) -> PKIError {
            PKIError(.invalidProject, file: source, key: key, message, hint: hint)
        }
        guard ParticipantName.isValid(self.name) else {
            throw fail("name", "'\(self.name)' is not a valid project name", hint: ParticipantName.rule)
        }
        var entries: [(key: String, name: String, organization: String?)] =
            [("coordinator", self.coordinator.name, self.coordinator.organization)]
        entries += self.sites.enumerated().map { ("sites[\($0.offset)]", $0.element.name, $0.element.organization) }
        entries += self.admins.enumerated().map { ("admins[\($0.offset)]", $0.element.name, $0.element.organization) }
        entries += self.aggregators.enumerated().map { ("aggregators[\($0.offset)]", $0.element.name, $0.element.organization) }
        var seen: [String: String] = [:]
        for entry in entries {
            guard ParticipantName.isValid(entry.name) else {
                throw fail("\(entry.key).name", "'\(entry.name)' is not a valid participant name",
                           hint: ParticipantName.rule)
            }
            if let other = seen[entry.name.lowercased()] {
                throw fail("\(entry.key).name", "'\(entry.name)' is already used by \(other)",
                           hint: "participant names must be unique (ignoring case) across coordinator, sites and admins")
            }
            seen[entry.name.lowercased()] = entry.key
            if let organization = entry.organization {
                try Self.checkOrganization(organization, key: "\(entry.key).organization", source: source)
            }
        }
        guard !self.sites.isEmpty else {
            throw fail("sites", "the project has no sites", hint: "add at least one `- {name: ..., organization: ...}`")
        }
        guard (1...65535).contains(self.coordinator.port) else {
            throw fail("coordinator.port", "\(self.coordinator.port) is not a TCP port", hint: "use 1...65535")
        }
        guard Self.isValidHost(self.coordinator.host) else {
            throw fail("coordinator.host", "'\(self.coordinator.host)' is not a DNS name or IP address")
        }
        for (i, address) in self.coordinator.addresses.enumerated() where IPAddress.bytes(address) == nil {
            throw fail("coordinator.addresses[\(i)]", "'\(address)' is not an IPv4 or IPv6 address",
                       hint: "put DNS names in coordinator.host")
        }
        try self.validateAggregators(fail: fail)
        if let days = self.caValidityDays, !(1...36500).contains(days) {
            throw fail("ca_validity_days", "\(days) is out of range", hint: "use 1...36500 days")
        }
        if let days = self.validityDays, !(1...self.authorityValidityDays).contains(days) {
            throw fail("validity_days", "\(days) is out of range",
                       hint: "use 1...\(self.authorityValidityDays) days (at most the CA's validity)")
        }
    }

    /// Each aggregator: a port, a host, IP addresses, and sites that exist and belong to no other region.
    private func validateAggregators(fail: (String?, String, String?) -> PKIError) throws(PKIError) {
        let siteNames = Set(self.sites.map { $0.name.lowercased() })
        var region = [String: String]()
        for (i, a) in self.aggregators.enumerated() {
            let key = "aggregators[\(i)]"
            guard (1...65535).contains(a.port) else { throw fail("\(key).port", "\(a.port) is not a TCP port", "use 1...65535") }
            guard Self.isValidHost(a.host) else { throw fail("\(key).host", "'\(a.host)' is not a DNS name or IP address", nil) }
            for (j, address) in a.addresses.enumerated() where IPAddress.bytes(address) == nil {
                throw fail("\(key).addresses[\(j)]", "'\(address)' is not an IPv4 or IPv6 address", "put DNS names in host")
            }
            guard !a.sites.isEmpty else {
                throw fail("\(key).sites", "aggregator '\(a.name)' has no sites", "list the region's sites, e.g. sites: [hospital-01, hospital-02]")
            }
            for (j, site) in a.sites.enumerated() {
                guard siteNames.contains(site.lowercased()) else {
                    throw fail("\(key).sites[\(j)]", "'\(site)' is not one of the project's sites", "add it under sites: first")
                }
                if let other = region[site.lowercased()] {
                    throw fail("\(key).sites[\(j)]", "'\(site)' is already in the region of \(other)", "a site belongs to at most one aggregator")
                }
                region[site.lowercased()] = a.name
            }
        }
    }

    /// Checks an organization name (non-empty, at most 64 characters, the X.509 upper bound).
    static func checkOrganization(_ organization: String, key: String, source: String) throws(PKIError) {
        let trimmed = organization.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, organization.count <= 64, !organization.contains(where: \.isNewline) else {
            throw PKIError(.invalidProject, file: source, key: key,
                           "'\(organization)' is not a valid organization name", hint: "1 to 64 characters, one line")
        }
    }

    /// Whether `host` is an IP literal or a plausible DNS name.
    static func isValidHost(_ host: String) -> Bool {
        if IPAddress.bytes(host) != nil { return true }
        guard !host.isEmpty, host.utf8.count <= 253 else { return false }
        return host.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.unicodeScalars.allSatisfy { ($0.isASCII && ($0.properties.isAlphabetic
                    || ("0"..."9").contains($0))) || $0 == "-" }
        }
    }

    /// The YAML text of this project, with comments (used when provisioning updates `project.yaml`).
    public func yaml() -> String {
        var y = YAMLText()
        y.comment("Cohort project definition (see `cohort provision --help`).")
        y.field("name", YAMLText.quote(self.name))
        y.section("coordinator")
        y.field("name", YAMLText.quote(self.coordinator.name), indent: 1, comment: "certificate CN")
        if let organization = self.coordinator.organization {
            y.field("organization", YAMLText.quote(organization), indent: 1)
        }
        y.field("host", YAMLText.quote(self.coordinator.host), indent: 1, comment: "what sites dial (certificate SAN)")
        y.field("addresses", YAMLText.list(self.coordinator.addresses), indent: 1, comment: "IP SANs")
        y.field("port", String(self.coordinator.port), indent: 1)
        for (key, members) in [("sites", self.sites), ("admins", self.admins)] {
            if members.isEmpty {
                y.field(key, "[]")
                continue
            }
            y.section(key)
            for member in members {
                var line = "  - {name: \(YAMLText.quote(member.name))"
                if let organization = member.organization { line += ", organization: \(YAMLText.quote(organization))" }
                y.raw(line + "}")
            }
        }
        if !self.aggregators.isEmpty {
            y.section("aggregators")
            for a in self.aggregators {
                var line = "  - {name: \(YAMLText.quote(a.name))"
                if let organization = a.organization { line += ", organization: \(YAMLText.quote(organization))" }
                line += ", host: \(YAMLText.quote(a.host)), addresses: \(YAMLText.list(a.addresses)), port: \(a.port)"
                y.raw(line + ", sites: \(YAMLText.list(a.sites))}")
            }
        }
        if let days = self.validityDays { y.field("validity_days", String(days)) }
        if let days = self.caValidityDays { y.field("ca_validity_days", String(days)) }
        return y.text
    }
}
