import ArgumentParser
import CohortData
import CohortPKI
import CohortRuntime
import CohortWire
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2

/// `cohort doctor`: a preflight a site's IT team runs before going live.
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a startup kit end to end: certificate, CA, name resolution, TCP reach, TLS handshake, protocol version, and (with --data) the data.")

    @Option(help: "A site or admin startup kit.") var kit: String
    @Option(help: "The site's data directory (optional).") var data: String?

    struct Check {
        var name: String
        var passed: Bool
        var detail: String
        var fix: String?
    }

    func run() async throws {
        var checks = [Check]()
        defer {
            for c in checks {
                print("\(c.passed ? "PASS" : "FAIL") \(c.name): \(c.detail)\(c.passed || c.fix == nil ? "" : " -- fix: \(c.fix!)")")
            }
        }
        let kit: Kit
        do {
            kit = try Kit.load(from: URL(fileURLWithPath: self.kit))
            checks.append(Check(name: "kit", passed: true, detail: "\(kit.role.rawValue) '\(kit.name)', key and certificate match, issued by the kit's CA"))
        } catch {
            checks.append(Check(name: "kit", passed: false, detail: error.description, fix: error.hint ?? "use the startup kit the project admin gave you, unchanged"))
            throw ExitCode(1)
        }
        let days = Int(kit.identity.notAfter.timeIntervalSinceNow / 86400)
        let validNow = kit.identity.notBefore <= Date() && Date() < kit.identity.notAfter
        checks.append(Check(name: "certificate", passed: validNow && days >= 0,
                            detail: "valid until \(ISO8601DateFormatter().string(from: kit.identity.notAfter)) (\(days) days)\(days < 30 ? "; expires soon" : "")",
                            fix: "ask the project admin for a new kit (`cohort provision --add-site`)"))
        let endpoint: (host: String, port: Int)
        switch kit.config {
        case .site(let c): endpoint = (c.coordinator.host, c.coordinator.port)
        case .admin(let c): endpoint = (c.coordinator.host, c.coordinator.port)
        case .coordinator(let c): endpoint = ("127.0.0.1", c.listen.port)
        case .aggregator(let c): endpoint = (c.upstream.host, c.upstream.port)
        }
        let addresses = Network.resolve(endpoint.host)
        checks.append(Check(name: "name resolution", passed: !addresses.isEmpty,
                            detail: addresses.isEmpty ? "\(endpoint.host) does not resolve" : "\(endpoint.host) -> \(addresses.joined(separator: ", "))",
                            fix: "check DNS or /etc/hosts for \(endpoint.host)"))
        let tcp = Network.canConnect(host: addresses.first ?? endpoint.host, port: endpoint.port, timeoutSeconds: 5)
        checks.append(Check(name: "tcp", passed: tcp.ok, detail: tcp.ok ? "reached \(endpoint.host):\(endpoint.port)" : "cannot reach \(endpoint.host):\(endpoint.port): \(tcp.error)",
                            fix: "check the coordinator is running and that outbound TCP to port \(endpoint.port) is allowed (no inbound port is needed at a site)"))
        if tcp.ok {
            let probe = await self.handshake(kit: kit, host: endpoint.host, port: endpoint.port)
            checks.append(probe.tls)
            if let p = probe.protocolCheck { checks.append(p) }
        }
        if let data = self.data {
            checks.append(self.dataCheck(URL(fileURLWithPath: data), kit: kit))
        }
        if checks.contains(where: { !$0.passed }) { throw ExitCode(1) }
    }

    func handshake(kit: Kit, host: String, port: Int) async -> (tls: Check, protocolCheck: Check?) {
        do {
            let transport = try HTTP2ClientTransport.Posix(
                target: .dns(host: host, port: port),
                transportSecurity: .mTLS(certificateChain: [.file(path: kit.certificateFile.path, format: .pem)],
                                         privateKey: .file(path: kit.privateKeyFile.path, format: .pem)) { tls in
                    tls.trustRoots = .certificates([.file(path: kit.caFile.path, format: .pem)])
                })
            var options = CallOptions.defaults
            options.timeout = .seconds(10)
            let versions: Cohort_V1_Versions = try await withGRPCClient(transport: transport) { client in
                if kit.role.joinsFederation {
                    var hello = Cohort_V1_HelloRequest()
                    hello.versions = WireProtocol.versions(software: CohortVersion.software)
                    hello.site = kit.name
                    return try await Cohort_V1_Federation.Client(wrapping: client).hello(hello, options: options).versions
                }
                var r = Cohort_V1_StatusRequest()
                r.protocol = WireProtocol.version
                return try await Cohort_V1_Admin.Client(wrapping: client).getStatus(r, options: options).versions
            }
            let tls = Check(name: "tls handshake", passed: true, detail: "mutual TLS with the project CA; the coordinator accepted '\(kit.name)'")
            if let reason = WireProtocol.incompatibility(peerProtocol: versions.protocol, peerMinimum: versions.minProtocol, peerSoftware: versions.software) {
                return (tls, Check(name: "protocol", passed: false, detail: reason, fix: "install a matching cohort version"))
            }
            return (tls, Check(name: "protocol", passed: true, detail: "coordinator speaks protocol \(versions.protocol) (cohort \(versions.software)); this side \(WireProtocol.minimumVersion)...\(WireProtocol.version)"))
        } catch let e as RPCError {
            let fix: String
            switch e.code {
            case .permissionDenied: fix = "the coordinator refused this certificate (revoked, expired or from another project); ask the project admin"
            case .unavailable: fix = "TLS failed: make sure the kit's ca.pem is the project's CA and the coordinator uses a certificate from it"
            case .failedPrecondition: fix = "install a cohort version the coordinator supports"
            default: fix = "see the message; run the coordinator with COHORT_LOG_LEVEL=debug for details"
            }
            return (Check(name: "tls handshake", passed: false, detail: "\(e.code): \(e.message)", fix: fix), nil)
        } catch {
            return (Check(name: "tls handshake", passed: false, detail: "\(error)", fix: "check the kit and the coordinator address"), nil)
        }
    }

    func dataCheck(_ dir: URL, kit: Kit) -> Check {
        let schemaURL = dir.appendingPathComponent("schema.yaml")
        do {
            if FileManager.default.fileExists(atPath: schemaURL.path) {
                let schema = try DatasetSchema.load(from: schemaURL)
                let d = try SiteDataset.load(directory: dir, site: kit.name, schema: schema, standardize: .perSite, testFraction: 0.25, seed: 1)
                return Check(name: "data", passed: true, detail: "\(d.site.trainReport.summary) (checked against \(schemaURL.lastPathComponent))")
            }
            let candidates = ["train.csv", "\(kit.name)_train.csv"].map { dir.appendingPathComponent($0) }
            guard let train = candidates.first(where: { FileManager.default.isReadableFile(atPath: $0.path) }) else {
                return Check(name: "data", passed: false, detail: "no readable train.csv or \(kit.name)_train.csv in \(dir.path)",
                             fix: "put the site's training data there, readable by the user running cohort")
            }
            let inferred = try SchemaInference.infer(files: [train], label: "label")
            return Check(name: "data", passed: true, detail: "\(train.lastPathComponent) is readable CSV with \(inferred.schema.columns.count) columns (no schema.yaml to validate against; each job validates with its own schema)")
        } catch let e as DataError {
            return Check(name: "data", passed: false, detail: e.description, fix: e.hint ?? "fix the data file")
        } catch {
            return Check(name: "data", passed: false, detail: "\(error)", fix: "check the data directory")
        }
    }
}

/// Low-level network probes for `cohort doctor`.
enum Network {
    static func resolve(_ host: String) -> [String] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var out = [String]()
        var p: UnsafeMutablePointer<addrinfo>? = first
        while let ai = p {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(ai.pointee.ai_addr, ai.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                let s = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if !out.contains(s) { out.append(s) }
            }
            p = ai.pointee.ai_next
        }
        return out
    }

    static func canConnect(host: String, port: Int, timeoutSeconds: Int) -> (ok: Bool, error: String) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let ai = result else { return (false, "cannot resolve") }
        defer { freeaddrinfo(ai) }
        let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
        guard fd >= 0 else { return (false, String(cString: strerror(errno))) }
        defer { close(fd) }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        if connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) != 0 {
            return (false, String(cString: strerror(errno)))
        }
        return (true, "")
    }
}
