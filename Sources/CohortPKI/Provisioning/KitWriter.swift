import Foundation

/// Writes startup kits: `cert.pem`, `key.pem` (0600), `ca.pem`, the role's config file and `README.md`.
enum KitWriter {
    /// Creates the kit directory `directory` (which must not exist) with mode 0700 and its files.
    static func write(to directory: URL, issued: IssuedCertificate, caPEM: String, config: KitConfig,
                      caFingerprint: String) throws(PKIError) {
        guard !SecureFile.exists(directory) else {
            throw PKIError(.duplicateParticipant, file: directory.path, "a kit directory already exists here",
                           hint: "choose another participant name; existing kits are never overwritten")
        }
        try SecureFile.makeDirectory(directory, mode: 0o700)
        try SecureFile.create(directory.appendingPathComponent(Kit.certificateFileName), contents: issued.certificatePEM,
                              mode: 0o644)
        try SecureFile.create(directory.appendingPathComponent(Kit.privateKeyFileName), contents: issued.privateKeyPEM,
                              mode: 0o600)
        try SecureFile.create(directory.appendingPathComponent(Kit.caFileName), contents: caPEM, mode: 0o644)
        try SecureFile.create(directory.appendingPathComponent(config.role.configFileName), contents: config.yaml(),
                              mode: 0o644)
        try SecureFile.create(directory.appendingPathComponent("README.md"),
                              contents: Self.readme(config: config, caFingerprint: caFingerprint), mode: 0o644)
    }

    /// The kit's README: what the files are and how to start.
    static func readme(config: KitConfig, caFingerprint: String) -> String {
        var s = """
            # Cohort startup kit: \(config.name) (\(config.role.rawValue), project \(config.project))

            | file | what |
            |---|---|
            | `cert.pem` | this participant's certificate (name `\(config.name)`, role `\(config.role.rawValue)`) |
            | `key.pem` | its private key: keep it secret and mode 0600 (`chmod 600 key.pem`); never copy it elsewhere |
            | `ca.pem` | the project CA; SHA-256 fingerprint `\(caFingerprint)` (check it with the project operator) |
            | `\(config.role.configFileName)` | settings; `name` and `project` must match the certificate |


            """
        switch config {
        case .coordinator(let c):
            s += """
                ## Start the coordinator

                    cohort coordinator --kit DIR [--state DIR]

                It listens on \(c.listen.endpoint) and sites dial `\(c.publicHost):\(c.listen.port)`. State (jobs,
                models) goes to `\(c.stateDir)/` inside this kit unless `--state` says otherwise. To refuse revoked
                participants, copy the operator's `revocations.json` into this directory.

                """
        case .site(let c):
            s += """
                ## Start the site agent

                    cohort site --kit DIR --data DIR

                It connects to the coordinator at \(c.coordinator). Your data never leaves this machine; the
                `policy:` section of `site.yaml` limits which jobs this site accepts (tasks, models, rounds, privacy).

                """
        case .aggregator(let c):
            s += """
                ## Start the regional aggregator

                    cohort aggregator --kit DIR [--state DIR]

                It listens on \(c.listen.endpoint) for its region's sites (\(c.sites.joined(separator: ", "))), which dial
                `\(c.publicHost):\(c.listen.port)`, and joins the coordinator at \(c.upstream) for them. It passes up
                one exact sum per round, of at least \(c.minSites) sites, and never a single site's update.

                """
        case .admin(let c):
            s += """
                ## Submit jobs

                    cohort job submit job.yaml --kit DIR

                Jobs go to the coordinator at \(c.coordinator).

                """
        }
        s += """

            ## Check this kit

                cohort doctor --kit DIR

            It checks the files, the key's permissions, that the CA issued the certificate and that it is still valid.
            """
        return s + "\n"
    }
}
