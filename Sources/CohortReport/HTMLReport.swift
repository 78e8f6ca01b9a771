import CohortData
import CohortModel
import CohortRuntime
import CohortStrategy
import Foundation

/// The self-contained `report.html`: inline CSS and SVG, no scripts, no external resources.
enum HTMLReport {
    static let colors = (federated: "#1f6feb", siteMean: "#7aa7f0", local: "#e8871e", central: "#6e7781")

    static func render(_ r: SimulationResult, federation: Federation, document: MetricsDocument) -> String {
        let localMean = r.local.map { ClassificationMetrics.mean($0.map(\.metrics)) }
        let localBySite = Dictionary(uniqueKeysWithValues: (r.local ?? []).map { ($0.site, $0.metrics) })
        let fm = r.final.siteMean
        var h = """
            <!doctype html><html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Cohort simulation report</title>
            <style>
            body{font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1f2328;max-width:1060px;margin:24px auto;padding:0 16px}
            h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;margin:32px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
            .sub{color:#59636e}.cards{display:flex;flex-wrap:wrap;gap:12px;margin:18px 0}
            .card{flex:1 1 200px;border:1px solid #d0d7de;border-radius:8px;padding:12px 14px}
            .card .v{font-size:28px;font-weight:600}.card .l{color:#59636e;font-size:13px}
            table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:4px 8px;border-bottom:1px solid #eaeef2;text-align:right}
            th:first-child,td:first-child{text-align:left}th{background:#f6f8fa;position:sticky;top:0}
            .good{color:#1a7f37}.bad{color:#cf222e}.chart{width:100%;height:auto;margin:8px 0}
            .chart .grid{stroke:#eaeef2}.chart .axis{stroke:#8c959f}.chart .tick{font-size:11px;fill:#59636e}
            .chart .axis-label{font-size:12px;fill:#1f2328}.chart .legend{font-size:12px;fill:#1f2328}
            code{background:#f6f8fa;padding:1px 4px;border-radius:4px}details{margin:8px 0}
            </style></head><body>
            <h1>Cohort simulation report</h1>
            <div class="sub">\(esc(r.sites.count.description)) sites &middot; \(esc(federation.source)) &middot; \(esc(r.spec.description)) &middot; \(esc(r.config.strategy.description)), \(r.rounds.count) rounds &middot; seed \(r.config.settings.seed) &middot; \(esc(document.run.created))</div>
            <div class="cards">
            """
        h += card(Self.f(fm.auc), "Federated model: mean AUC over sites", color: colors.federated)
        if let lm = localMean { h += card(Self.f(lm.auc), "Each site alone: mean AUC", color: colors.local) }
        if let c = r.centralized { h += card(Self.f(c.siteMean.auc), "All data pooled (the reference federation tries to reach)", color: colors.central) }
        if let lm = localMean, let la = lm.auc, let fa = fm.auc {
            let better = r.sites.filter { (r.final.sites[$0.name]?.auc ?? 0) > (localBySite[$0.name]?.auc ?? 1) }.count
            h += card(String(format: "%+.3f", fa - la), "AUC gained by federating; better at \(better) of \(r.sites.count) sites", color: fa >= la ? "#1a7f37" : "#cf222e")
        }
        h += "</div>"
        h += """
            <p>Every site trained the same model on its own data; only model updates left a site, and the coordinator \
            combined them with \(esc(r.config.strategy.description)). <b>Local-only</b> is what each site gets on its \
            own with the same training budget; <b>centralized</b> pools all training data in one place, which the \
            sites cannot do in reality, and is the upper reference. All three are scored on each site's own held-out \
            test data. AUC is the probability that a randomly chosen positive case is ranked above a randomly chosen \
            negative one (0.5 is chance, 1 is perfect).</p>
            """

        // Chart: metric per round.
        let evalRounds = r.rounds.compactMap { rec in rec.evaluation.map { (Double(rec.round), $0) } }
        var series = [SVGChart.Series(name: "federated, all test rows", color: colors.federated,
                                      points: evalRounds.compactMap { x, e in e.global.auc.map { (x, $0) } })]
        series.append(SVGChart.Series(name: "federated, mean of sites", color: colors.siteMean,
                                      points: evalRounds.compactMap { x, e in e.siteMean.auc.map { (x, $0) } }, dashed: true))
        var refs = [SVGChart.Reference]()
        if let a = localMean?.auc { refs.append(.init(name: "local-only, mean of sites", color: colors.local, y: a)) }
        if let a = r.centralized?.siteMean.auc { refs.append(.init(name: "centralized, mean of sites", color: colors.central, y: a)) }
        h += "<h2>Test AUC per round</h2>"
        h += SVGChart.lines(series, references: refs, xLabel: "round", yLabel: "AUC")
        let accSeries = [
            SVGChart.Series(name: "federated, all test rows", color: colors.federated, points: evalRounds.map { ($0.0, $0.1.global.accuracy) }),
            SVGChart.Series(name: "federated, mean of sites", color: colors.siteMean, points: evalRounds.map { ($0.0, $0.1.siteMean.accuracy) }, dashed: true),
        ]
        var accRefs = [SVGChart.Reference]()
        if let a = localMean?.accuracy { accRefs.append(.init(name: "local-only", color: colors.local, y: a)) }
        if let a = r.centralized?.siteMean.accuracy { accRefs.append(.init(name: "centralized", color: colors.central, y: a)) }
        h += "<h2>Test accuracy and loss per round</h2>"
        h += SVGChart.lines(accSeries, references: accRefs, xLabel: "round", yLabel: "accuracy", height: 260)
        let lossSeries = [
            SVGChart.Series(name: "test log loss, all rows", color: colors.federated, points: evalRounds.map { ($0.0, $0.1.global.logLoss) }),
            SVGChart.Series(name: "local training loss", color: "#8250df", points: r.rounds.compactMap { rec in rec.trainingLoss.map { (Double(rec.round), $0) } }),
        ]
        h += SVGChart.lines(lossSeries, xLabel: "round", yLabel: "loss", height: 260)

        // Privacy: ε per round and what it cost.
        if let p = document.run.privacy {
            h += "<h2>Differential privacy</h2>"
            let noDP = r.nonPrivate
            h += "<div class=\"cards\">"
            h += card(String(format: "%.3g", p.epsilon), "epsilon after \(r.rounds.count) rounds at delta \(String(format: "%.0e", p.delta)) (\(p.unit)-level)", color: "#8250df")
            if let a = noDP?.siteMean.auc, let b = fm.auc {
                h += card(String(format: "%+.3f", b - a), "AUC cost of privacy (mean of sites: \(Self.f(b)) with, \(Self.f(a)) without)", color: b >= a ? "#1a7f37" : "#cf222e")
            }
            h += "</div>"
            let unitWords = p.unit == "record"
                ? "one patient record at the site that spends the most (each site's ledger holds its own value)"
                : "one site's entire contribution, whatever it holds"
            h += "<p>Mode <b>\(esc(p.mode))</b>: Gaussian noise multiplier \(p.noiseMultiplier), clip norm \(p.clip)\(p.adaptiveClip ? " (adaptive)" : ""). The guarantee covers \(unitWords). Epsilon comes from the R&eacute;nyi DP accountant of the sampled Gaussian mechanism (best order \(p.rdpOrder)).</p>"
            let eps = r.rounds.compactMap { rec in rec.privacy.map { (Double(rec.round), $0.epsilon) } }
            h += SVGChart.lines([SVGChart.Series(name: "epsilon spent", color: "#8250df", points: eps)], xLabel: "round", yLabel: "epsilon", height: 240)
        }
        if !r.refused.isEmpty {
            h += "<h2>Sites that refused the job</h2><ul>" + r.refused.keys.sorted(by: NaturalOrder.less).map { "<li><b>\(esc($0))</b>: \(esc(r.refused[$0]!))</li>" }.joined() + "</ul>"
        }

        // Per-site dot chart.
        let bySize = r.sites.sorted { $0.trainCount > $1.trainCount }
        let rows = bySize.map { s in
            SVGChart.DotRow(label: "\(s.name) (n=\(s.trainCount))", values: [
                ("local-only", colors.local, localBySite[s.name]?.auc),
                ("federated", colors.federated, r.final.sites[s.name]?.auc),
                ("centralized", colors.central, r.centralized?.sites[s.name]?.auc),
            ])
        }
        h += "<h2>Each site: alone, federated, pooled</h2>"
        h += "<p class=\"sub\">Sites sorted by training size. Small sites gain most: alone they have too few cases to learn the shared risk model.</p>"
        h += SVGChart.dots(rows, xLabel: "test AUC at the site")

        // Per-site table.
        h += "<h2>Per-site results</h2><table><tr><th>site</th><th>type</th><th>train</th><th>test</th><th>positive rate</th>"
        h += "<th>local AUC</th><th>federated AUC</th><th>centralized AUC</th><th>gain</th><th>local acc.</th><th>federated acc.</th><th>centralized acc.</th></tr>"
        for s in r.sites {
            let l = localBySite[s.name], fsite = r.final.sites[s.name], c = r.centralized?.sites[s.name]
            var gain = "-"
            var cls = ""
            if let a = fsite?.auc, let b = l?.auc {
                gain = String(format: "%+.3f", a - b)
                cls = a >= b ? "good" : "bad"
            }
            h += "<tr><td>\(esc(s.name))</td><td>\(esc(s.note ?? ""))</td><td>\(s.trainCount)</td><td>\(s.testCount)</td><td>\(String(format: "%.1f%%", 100 * s.positiveRate))</td>"
            h += "<td>\(Self.f(l?.auc))</td><td>\(Self.f(fsite?.auc))</td><td>\(Self.f(c?.auc))</td><td class=\"\(cls)\">\(gain)</td>"
            h += "<td>\(Self.f(l?.accuracy))</td><td>\(Self.f(fsite?.accuracy))</td><td>\(Self.f(c?.accuracy))</td></tr>"
        }
        h += "<tr><th>mean of sites</th><th></th><th></th><th></th><th></th><th>\(Self.f(localMean?.auc))</th><th>\(Self.f(fm.auc))</th><th>\(Self.f(r.centralized?.siteMean.auc))</th><th></th>"
        h += "<th>\(Self.f(localMean?.accuracy))</th><th>\(Self.f(fm.accuracy))</th><th>\(Self.f(r.centralized?.siteMean.accuracy))</th></tr>"
        h += "<tr><th>all test rows</th><th></th><th></th><th>\(r.final.global.count)</th><th></th><th></th><th>\(Self.f(r.final.global.auc))</th><th>\(Self.f(r.centralized?.global.auc))</th><th></th>"
        h += "<th></th><th>\(Self.f(r.final.global.accuracy))</th><th>\(Self.f(r.centralized?.global.accuracy))</th></tr></table>"

        if let p = r.personalization { h += Self.personalization(p, sites: r.sites) }

        // Other metrics.
        h += "<h2>All metrics of the final models</h2><table><tr><th>model</th><th>scope</th><th>AUC</th><th>accuracy</th><th>balanced acc.</th><th>F1</th><th>log loss</th><th>Brier</th></tr>"
        func metricsRow(_ name: String, _ scope: String, _ m: ClassificationMetrics?) -> String {
            guard let m else { return "" }
            return "<tr><td>\(name)</td><td>\(scope)</td><td>\(Self.f(m.auc))</td><td>\(Self.f(m.accuracy))</td><td>\(Self.f(m.balancedAccuracy))</td><td>\(Self.f(m.f1))</td><td>\(Self.f(m.logLoss))</td><td>\(Self.f(m.brier))</td></tr>"
        }
        h += metricsRow("federated", "all test rows", r.final.global)
        h += metricsRow("federated", "mean of sites", r.final.siteMean)
        h += metricsRow("federated without privacy", "all test rows", r.nonPrivate?.global)
        h += metricsRow("federated without privacy", "mean of sites", r.nonPrivate?.siteMean)
        h += metricsRow("local-only", "mean of sites", localMean)
        h += metricsRow("centralized", "all test rows", r.centralized?.global)
        h += metricsRow("centralized", "mean of sites", r.centralized?.siteMean)
        h += "</table><p class=\"sub\">AUC over all test rows is computed from pooled 2,048-bin score histograms that each site releases instead of per-patient predictions; the other pooled metrics are exact.</p>"

        // Data.
        h += "<h2>Data</h2><p>Schema: \(esc(federation.schemaSource)). "
        let totalTrain = r.sites.reduce(0) { $0 + $1.trainCount }, totalTest = r.sites.reduce(0) { $0 + $1.testCount }
        h += "\(totalTrain) training and \(totalTest) test rows.</p>"
        if !federation.schemaNotes.isEmpty {
            h += "<details open><summary>Inferred schema</summary><ul>" + federation.schemaNotes.map { "<li>\(esc($0))</li>" }.joined() + "</ul></details>"
        }
        h += "<details><summary>Validation of every file</summary><table><tr><th>file</th><th>rows read</th><th>accepted</th><th>rejected</th><th>dropped</th><th>missing values (column: count)</th></tr>"
        for s in federation.sites {
            for rep in [s.trainReport] + (s.testReport.map { [$0] } ?? []) {
                let missing = rep.columns.filter { $0.missing > 0 }.map { "\($0.name): \($0.missing)" }.joined(separator: ", ")
                h += "<tr><td>\(esc(rep.file))</td><td>\(rep.rowsRead)</td><td>\(rep.rowsAccepted)</td><td>\(rep.rowsRejected)</td><td>\(rep.rowsDropped)</td><td>\(esc(missing))</td></tr>"
            }
        }
        h += "</table></details>"

        // Model and run.
        h += "<h2>Model and run</h2><ul>"
        h += "<li>Model: \(esc(r.spec.description)), \(r.model.count) parameters, file <code>\(esc(document.model.file))</code> (SHA-256 <code>\(document.model.sha256)</code>) with <code>\(esc(document.model.card))</code>.</li>"
        h += "<li>Local training per round: \(esc(r.config.settings.training.budget.description)), batch size \(r.config.settings.training.batchSize), \(esc(Self.describe(r.config.settings.training.optimizer))).</li>"
        h += "<li>Standardisation: \(esc(r.config.standardize.rawValue)); fraction of sites per round: \(r.config.settings.fraction); simulated dropout: \(r.config.dropoutRate).</li>"
        let failures = r.rounds.reduce(0) { $0 + $1.failures.count }
        h += "<li>Site failures over all rounds: \(failures).</li>"
        h += String(format: "<li>Wall time: federated %.1f s, baselines %.1f s.</li>", r.federatedSeconds, r.baselineSeconds)
        h += "<li>Command: <code>\(esc(document.run.command))</code></li></ul>"
        h += "<p class=\"sub\">Generated by Cohort \(esc(document.run.cohortVersion)). Machine-readable results: <code>metrics.json</code> and <code>metrics.csv</code>.</p>"
        h += "</body></html>\n"
        return h
    }

    /// The personalisation section: mean cards and the per-site table of global against personalised models.
    static func personalization(_ p: PersonalizationResult, sites: [SiteDescription]) -> String {
        let columns = p.models
        var h = "<h2>Personalisation: global vs personalised</h2><div class=\"cards\">"
        h += card(Self.f(PersonalizationResult.siteMean(p.global, \.accuracy)), "Global model: mean accuracy over sites", color: colors.central)
        h += card(Self.f(PersonalizationResult.siteMean(p.personalized, \.accuracy)), "Personalised (\(p.personalizedName)): mean accuracy over sites",
                  color: colors.federated)
        let gain = p.meanAccuracyImprovement
        h += card(ComparisonTable.signed(gain), "mean accuracy gained by personalising; better at \(p.sitesImproved) of \(p.sitesCompared) sites",
                  color: (gain ?? 0) >= 0 ? "#1a7f37" : "#cf222e")
        if let a = p.meanAUCImprovement { h += card(ComparisonTable.signed(a), "mean AUC gained by personalising", color: a >= 0 ? "#1a7f37" : "#cf222e") }
        h += "</div><p>"
        if !p.personalTensors.isEmpty {
            h += "Each site kept its own <b>\(esc(p.personalTensors.joined(separator: ", ")))</b> (\(p.settings.localLayers == 1 ? "the last layer" : "the last \(p.settings.localLayers) layers")): "
            h += "it trained them across rounds and sent zeros in their place, so only the shared body was aggregated. "
            h += "<b>Global</b> is the same federation sharing every layer; <b>personal head</b> is the shared body with each site's own head. "
        } else {
            h += "<b>Global</b> is the federated model. "
        }
        if p.settings.fineTuneEpochs > 0 {
            h += "<b>Fine-tuned</b>: each site then trained its model (all layers) for \(p.settings.fineTuneEpochs) epoch\(p.settings.fineTuneEpochs == 1 ? "" : "s") on its own training data; the result stays at the site. "
        }
        h += "All are scored on each site's own test data.</p>"
        h += "<table><tr><th>site</th><th>positive rate</th>" + columns.map { "<th>\(esc($0.0)) AUC</th>" }.joined()
            + columns.map { "<th>\(esc($0.0)) acc.</th>" }.joined() + "<th>acc. gain</th></tr>"
        for s in sites {
            h += "<tr><td>\(esc(s.name))</td><td>\(String(format: "%.1f%%", 100 * s.positiveRate))</td>"
            h += columns.map { "<td>\(Self.f($0.1.sites[s.name]?.auc))</td>" }.joined()
            h += columns.map { "<td>\(Self.f($0.1.sites[s.name]?.accuracy))</td>" }.joined()
            if let a = p.personalized.sites[s.name]?.accuracy, let b = p.global.sites[s.name]?.accuracy, a.isFinite, b.isFinite {
                h += "<td class=\"\(a >= b ? "good" : "bad")\">\(ComparisonTable.signed(a - b))</td></tr>"
            } else {
                h += "<td>-</td></tr>"
            }
        }
        h += "<tr><th>mean of sites</th><th></th>" + columns.map { "<th>\(Self.f(PersonalizationResult.siteMean($0.1, \.auc)))</th>" }.joined()
            + columns.map { "<th>\(Self.f(PersonalizationResult.siteMean($0.1, \.accuracy)))</th>" }.joined()
            + "<th>\(ComparisonTable.signed(gain))</th></tr></table>"
        h += "<p class=\"sub\">Means leave out sites without test data (and, for AUC, sites whose test data has one class only).</p>"
        return h
    }

    static func card(_ value: String, _ label: String, color: String) -> String {
        "<div class=\"card\"><div class=\"v\" style=\"color:\(color)\">\(esc(value))</div><div class=\"l\">\(esc(label))</div></div>"
    }

    static func f(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "-" }
        return String(format: "%.3f", v)
    }

    static func describe(_ o: OptimizerSpec) -> String {
        switch o {
        case .sgd(let lr, let m, let wd, _): "SGD, learning rate \(lr)" + (m > 0 ? ", momentum \(m)" : "") + (wd > 0 ? ", weight decay \(wd)" : "")
        case .adam(let lr, _, _, _, _, _): "Adam, learning rate \(lr)"
        }
    }
}
