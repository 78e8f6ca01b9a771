public import CohortData
import CohortCompression
import CohortModel
import CohortPrivacy
public import CohortRuntime
import CohortStrategy
public import Foundation

/// Writes a simulation's outputs: `metrics.json`, `metrics.csv`, `model.safetensors` with `model.card.json`, and
/// `report.html`.
public enum ReportWriter {
    /// Writes all outputs into `directory` (created if needed).
    ///
    /// - Returns: the file names written.
    @discardableResult
    public static func write(_ r: SimulationResult, federation: Federation, to directory: URL, command: String) throws -> [String] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let created = ISO8601DateFormatter().string(from: Date())

        // Model and card.
        let weightsURL = directory.appendingPathComponent("model.safetensors")
        let card = self.modelCard(r, federation: federation, created: created)
        let sha = try ModelExport.write(r.model, card: card, to: weightsURL)

        let document = self.document(r, federation: federation, command: command, created: created, modelSHA256: sha)
        try document.jsonData().write(to: directory.appendingPathComponent("metrics.json"), options: .atomic)
        try Data(self.csv(document).utf8).write(to: directory.appendingPathComponent("metrics.csv"), options: .atomic)
        let html = HTMLReport.render(r, federation: federation, document: document)
        try Data(html.utf8).write(to: directory.appendingPathComponent("report.html"), options: .atomic)
        return ["metrics.json", "metrics.csv", "model.safetensors", "model.card.json", "report.html"]
    }

    static func document(_ r: SimulationResult, federation: Federation, command: String, created: String, modelSHA256: String) -> MetricsDocument {
        let run = MetricsDocument.Run(
            command: command, cohortVersion: "0.1.0", created: created, data: federation.source,
            schema: federation.schemaSource, model: r.spec, strategy: r.config.strategy.name,
            rounds: r.config.settings.rounds, roundsRun: r.rounds.count, fraction: r.config.settings.fraction,
            dropout: r.config.dropoutRate, standardize: r.config.standardize.rawValue,
            localTraining: r.config.settings.training, seed: r.config.settings.seed,
            federatedSeconds: r.federatedSeconds, baselineSeconds: r.baselineSeconds,
            privacy: r.config.settings.privacy.map { p in
                let last = r.rounds.last?.privacy
                var adaptive = false
                if case .central(_, _, let a) = p.configuration.mode { adaptive = a != nil }
                return MetricsDocument.Privacy(
                    mode: p.modeName, noiseMultiplier: p.configuration.noiseMultiplier, clip: p.configuration.clip,
                    adaptiveClip: adaptive, delta: p.delta, epsilon: last?.epsilon ?? 0, unit: last?.unit ?? "site",
                    rdpOrder: last?.order ?? 0)
            },
            refusedSites: r.refused.isEmpty ? nil : r.refused, compression: r.config.settings.compression?.description)
        let rounds = r.rounds.map { rec in
            MetricsDocument.Round(
                round: rec.round, global: rec.evaluation?.global, siteMean: rec.evaluation?.siteMean,
                sites: rec.evaluation?.sites ?? [:], participants: rec.participants, aggregated: rec.aggregated,
                failures: rec.failures, trainingLoss: rec.trainingLoss.flatMap { $0.isFinite ? $0 : nil },
                modelSHA256: rec.modelSHA256, epsilon: rec.privacy?.epsilon, bytes: rec.traffic, notes: rec.notes)
        }
        let local = r.local.map { evals in
            MetricsDocument.Local(mean: ClassificationMetrics.mean(evals.map(\.metrics)),
                                  sites: Dictionary(uniqueKeysWithValues: evals.map { ($0.site, $0.metrics) }))
        }
        return MetricsDocument(
            run: run, sites: r.sites, rounds: rounds, final: .init(r.final),
            baselines: .init(local: local, centralized: r.centralized.map(MetricsDocument.Pooled.init),
                             federatedWithoutPrivacy: r.nonPrivate.map(MetricsDocument.Pooled.init)),
            model: .init(file: "model.safetensors", card: "model.card.json", sha256: modelSHA256, parameterCount: r.model.count),
            personalization: r.personalization.map(MetricsDocument.Personalization.init))
    }

    /// One row per approach, round and scope: `approach,round,site,count,accuracy,balanced_accuracy,auc,loss,f1,brier`.
    /// `site` is a site name, `ALL` (all test rows pooled) or `MEAN` (unweighted mean of sites).
    static func csv(_ d: MetricsDocument) -> String {
        var s = "approach,round,site,count,accuracy,balanced_accuracy,auc,loss,f1,brier\n"
        func add(_ approach: String, _ round: String, _ site: String, _ m: ClassificationMetrics) {
            func v(_ x: Double?) -> String { x.flatMap { $0.isFinite ? String($0) : nil } ?? "" }
            s += [approach, round, CSVParser.escape(site), String(m.count), v(m.accuracy), v(m.balancedAccuracy), v(m.auc),
                  v(m.logLoss), v(m.f1), v(m.brier)].joined(separator: ",") + "\n"
        }
        for r in d.rounds {
            if let g = r.global { add("federated", String(r.round), "ALL", g) }
            if let m = r.siteMean { add("federated", String(r.round), "MEAN", m) }
            for k in r.sites.keys.sorted(by: NaturalOrder.less) { add("federated", String(r.round), k, r.sites[k]!) }
        }
        add("federated", "final", "ALL", d.final.global)
        add("federated", "final", "MEAN", d.final.siteMean)
        for k in d.final.sites.keys.sorted(by: NaturalOrder.less) { add("federated", "final", k, d.final.sites[k]!) }
        if let l = d.baselines.local {
            add("local", "final", "MEAN", l.mean)
            for k in l.sites.keys.sorted(by: NaturalOrder.less) { add("local", "final", k, l.sites[k]!) }
        }
        let p = d.personalization
        for (approach, pooled) in [("federated-no-dp", d.baselines.federatedWithoutPrivacy), ("centralized", d.baselines.centralized),
                                   ("global", p?.global), ("personal-head", p?.personalHead), ("fine-tuned", p?.fineTuned)] {
            guard let pooled else { continue }
            add(approach, "final", "ALL", pooled.global)
            add(approach, "final", "MEAN", pooled.siteMean)
            for k in pooled.sites.keys.sorted(by: NaturalOrder.less) { add(approach, "final", k, pooled.sites[k]!) }
        }
        return s
    }

    static func modelCard(_ r: SimulationResult, federation: Federation, created: String) -> ModelCard {
        let encoder = r.sharedEncoder ?? r.encoders.values.first!
        var features = encoder.features
        if r.sharedEncoder == nil {
            // Per-site standardisation: each site scales with its own statistics, listed under schema.per_site.
            for i in features.indices {
                features[i].mean = nil
                features[i].standardDeviation = nil
                features[i].imputedValue = nil
            }
        }
        var schemaJSON: JSONValue?
        if let data = try? JSONEncoder().encode(federation.schema) {
            schemaJSON = try? JSONDecoder().decode(JSONValue.self, from: data)
        }
        if r.sharedEncoder == nil, case .object(var obj) = schemaJSON ?? .object([:]) {
            var perSite = [String: JSONValue]()
            for (name, enc) in r.encoders {
                perSite[name] = .array(enc.features.filter { $0.encoding == "numeric" }.map { f in
                    .object(["name": .string(f.name), "mean": .number(f.mean ?? 0), "std": .number(f.standardDeviation ?? 1)])
                })
            }
            obj["per_site_standardization"] = .object(perSite)
            schemaJSON = .object(obj)
        }
        let provenance = ModelCard.Provenance(
            version: "0.1.0", created: created, strategy: r.config.strategy.description, rounds: r.rounds.count,
            seed: r.config.settings.seed, sites: Dictionary(uniqueKeysWithValues: r.sites.map { ($0.name, $0.trainCount) }),
            localTraining: r.config.settings.training, standardize: r.config.standardize.rawValue, dataSource: federation.source)
        var metrics = ["federated_all_test_rows": r.final.global, "federated_site_mean": r.final.siteMean]
        if let c = r.centralized { metrics["centralized_site_mean"] = c.siteMean }
        if let p = r.personalization { metrics["personalized_site_mean"] = p.personalized.siteMean }
        return ModelCard(
            model: r.spec, label: encoder.label, features: features, schema: schemaJSON, training: provenance,
            weights: .init(file: "model.safetensors", bytes: 0, sha256: "", parameterCount: r.model.count), metrics: metrics)
    }
}
