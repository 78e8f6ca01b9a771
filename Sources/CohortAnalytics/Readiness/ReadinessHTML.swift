import Foundation

/// The readiness HTML pages, in the style of the simulation report.
enum ReadinessHTML {
    static let style = """
        body{font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1f2328;max-width:1060px;margin:24px auto;padding:0 16px}
        h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;margin:32px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
        .sub{color:#59636e}.cards{display:flex;flex-wrap:wrap;gap:12px;margin:18px 0}
        .card{flex:1 1 160px;border:1px solid #d0d7de;border-radius:8px;padding:12px 14px}
        .card .v{font-size:28px;font-weight:600}.card .l{color:#59636e;font-size:13px}
        table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:4px 8px;border-bottom:1px solid #eaeef2;text-align:right}
        th:first-child,td:first-child{text-align:left}th{background:#f6f8fa}
        .flag{margin:4px 0;padding:6px 10px;border-radius:6px;border-left:4px solid}
        .critical{background:#ffebe9;border-color:#cf222e}.warning{background:#fff8c5;border-color:#d4a72c}.info{background:#ddf4ff;border-color:#54aeff}
        .hist{display:inline-block;margin:6px 12px 6px 0;vertical-align:top}.hist .t{font-size:12px;font-weight:600}
        .legend{font-size:12px;color:#59636e}code{background:#f6f8fa;padding:1px 4px;border-radius:4px}
        a{color:#0969da}
        """
    static let siteColor = "#e8871e", restColor = "#1f6feb"

    static func page(_ title: String, _ body: String) -> String {
        """
        <!doctype html><html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1"><title>\(esc(title))</title>
        <style>\(style)</style></head><body>\(body)</body></html>
        """
    }

    static func card(_ value: String, _ label: String, color: String = "#1f2328") -> String {
        "<div class=\"card\"><div class=\"v\" style=\"color:\(color)\">\(esc(value))</div><div class=\"l\">\(esc(label))</div></div>"
    }

    static func flags(_ flags: [ReadinessFlag]) -> String {
        guard !flags.isEmpty else { return "<p class=\"sub\">Nothing flagged.</p>" }
        return flags.map { f in
            "<div class=\"flag \(f.severity.rawValue)\"><b>\(f.severity.rawValue)</b> &middot; <code>\(esc(f.code))</code>\(f.column.map { " &middot; <b>\(esc($0))</b>" } ?? ""): \(esc(f.message))</div>"
        }.joined()
    }

    static func site(_ s: ReadinessReport, federation: FederationReadiness) -> String {
        var h = "<h1>Data readiness: \(esc(s.site))</h1><div class=\"sub\"><a href=\"federation.html\">federation</a> &middot; computed at the site from its own rows and the federation's released aggregates</div>"
        h += "<div class=\"cards\">"
        h += card(String(s.rows), "rows")
        h += card(String(s.flags.filter { $0.severity == .critical }.count), "critical findings", color: "#cf222e")
        h += card(String(s.flags.filter { $0.severity == .warning }.count), "warnings", color: "#9a6700")
        if let l = s.label, let p = l.prevalence {
            h += card(pct(p), "\(l.column) = \(l.classes.last ?? "1") (rest of the federation: \(l.restPrevalence.map(pct) ?? "-"))")
        }
        h += "</div><h2>Findings</h2>" + flags(s.flags)
        let c = s.conformance
        h += "<h2>Schema conformance</h2><table><tr><th>rows read</th><th>accepted</th><th>rejected</th><th>dropped</th><th>ignored columns</th></tr>"
        h += "<tr><td>\(c.rowsRead)</td><td>\(c.rowsAccepted)</td><td>\(c.rowsRejected)</td><td>\(c.rowsDropped)</td><td>\(esc(c.ignoredColumns.joined(separator: ", ")))</td></tr></table>"
        h += "<h2>Features against the rest of the federation</h2><table><tr><th>feature</th><th>type</th><th>missing</th><th>out of range</th><th>mean here</th><th>SD here</th><th>mean rest</th><th>SD rest</th><th>SMD</th><th>PSI</th></tr>"
        for f in s.features {
            let cls = s.flags(for: f.column).contains { $0.severity == .critical } ? " class=\"critical\"" : s.flags(for: f.column).contains { $0.severity == .warning } ? " class=\"warning\"" : ""
            h += "<tr\(cls)><td>\(esc(f.column))</td><td>\(f.kind)</td><td>\(pct(f.missingFraction))</td><td>\(c.outOfRange[f.column] ?? 0)</td>"
            h += "<td>\(num(f.site?.mean))</td><td>\(num(f.site?.standardDeviation))</td><td>\(num(f.rest?.mean))</td><td>\(num(f.rest?.standardDeviation))</td>"
            h += "<td>\(f.smd.map { String(format: "%+.2f", $0) } ?? "-")</td><td>\(f.psi.map { String(format: "%.2f", $0) } ?? "-")</td></tr>"
        }
        h += "</table>"
        h += "<h2>Distributions</h2><p class=\"legend\"><span style=\"color:\(siteColor)\">&#9632;</span> this site &nbsp; <span style=\"color:\(restColor)\">&#9632;</span> rest of the federation (released aggregates); share of values per shared bin</p>"
        if let l = s.label { h += histogram(l.column, bins: l.classes, a: l.siteCounts, b: l.restCounts) }
        for f in s.features { h += histogram(f.column, bins: f.bins, a: f.siteCounts, b: f.restCounts) }
        return page("Readiness: \(s.site)", h)
    }

    static func federation(_ r: FederationReadiness) -> String {
        var h = "<h1>Data readiness: federation</h1><div class=\"sub\">\(r.sites.count) sites &middot; shift and prevalence from released aggregates only</div><div class=\"cards\">"
        h += card(String(r.sites.count), "sites")
        h += card(String(r.sites.reduce(0) { $0 + $1.rows }), "rows")
        h += card(String(r.overview.filter { $0.critical > 0 }.count), "sites with critical findings", color: "#cf222e")
        h += "</div><h2>Findings across sites</h2>" + flags(r.flags)
        h += "<h2>Sites</h2><table><tr><th>site</th><th>rows</th><th>prevalence</th><th>critical</th><th>warnings</th><th>flags</th></tr>"
        for o in r.overview {
            h += "<tr><td><a href=\"site-\(ReadinessRenderer.fileName(o.site)).html\">\(esc(o.site))</a></td><td>\(o.rows.map { String(Int($0.rounded())) } ?? "withheld")</td>"
            h += "<td>\(o.prevalence.map(pct) ?? "withheld")</td><td>\(o.critical)</td><td>\(o.warnings)</td><td style=\"text-align:left\">\(esc(o.flagCodes.joined(separator: ", ")))</td></tr>"
        }
        h += "</table><h2>Standardised mean difference against the rest of the federation</h2>"
        h += "<p class=\"sub\">Cells shade from white (0) to red (|SMD| &ge; 1); blank where the site withheld the feature.</p><table><tr><th>site</th>"
        for f in r.features { h += "<th>\(esc(f))</th>" }
        h += "</tr>"
        for o in r.overview {
            h += "<tr><td>\(esc(o.site))</td>"
            for f in r.features {
                if let d = o.smd[f] {
                    let a = min(1, abs(d))
                    h += "<td style=\"background:rgba(207,34,46,\(String(format: "%.2f", a * 0.6)))\">\(String(format: "%+.2f", d))</td>"
                } else {
                    h += "<td></td>"
                }
            }
            h += "</tr>"
        }
        h += "</table>"
        return page("Readiness: federation", h)
    }

    /// Paired bars of the shares of two count vectors over the same bins.
    static func histogram(_ title: String, bins: [String], a: [Double], b: [Double]) -> String {
        let ta = a.reduce(0) { $0 + max(0, $1) }, tb = b.reduce(0) { $0 + max(0, $1) }
        guard ta > 0 || tb > 0, !bins.isEmpty else { return "" }
        let pa = a.map { ta > 0 ? max(0, $0) / ta : 0 }, pb = b.map { tb > 0 ? max(0, $0) / tb : 0 }
        // Hide empty underflow/overflow cells of numeric grids.
        let keep = bins.indices.filter { i in !(bins[i].hasPrefix("<") || bins[i].hasPrefix(">")) || pa[i] > 0 || pb[i] > 0 }
        let w = 300.0, hgt = 90.0, slot = w / Double(max(1, keep.count))
        let top = max(pa.max() ?? 0, pb.max() ?? 0, 1e-9)
        var s = "<div class=\"hist\"><div class=\"t\">\(esc(title))</div><svg viewBox=\"0 0 \(Int(w)) \(Int(hgt + 14))\" width=\"\(Int(w))\" height=\"\(Int(hgt + 14))\" role=\"img\" aria-label=\"\(esc(title)) distribution\">"
        for (j, i) in keep.enumerated() {
            let x = Double(j) * slot
            let ha = pa[i] / top * hgt, hb = pb[i] / top * hgt
            s += "<rect x=\"\(f1(x + 1))\" y=\"\(f1(hgt - ha))\" width=\"\(f1(max(1, slot / 2 - 1)))\" height=\"\(f1(ha))\" fill=\"\(siteColor)\"><title>\(esc(bins[i])): here \(pct(pa[i]))</title></rect>"
            s += "<rect x=\"\(f1(x + slot / 2))\" y=\"\(f1(hgt - hb))\" width=\"\(f1(max(1, slot / 2 - 1)))\" height=\"\(f1(hb))\" fill=\"\(restColor)\"><title>\(esc(bins[i])): rest \(pct(pb[i]))</title></rect>"
        }
        if let first = keep.first, let last = keep.last {
            s += "<text x=\"0\" y=\"\(Int(hgt + 12))\" font-size=\"10\" fill=\"#59636e\">\(esc(bins[first]))</text>"
            s += "<text x=\"\(Int(w))\" y=\"\(Int(hgt + 12))\" font-size=\"10\" fill=\"#59636e\" text-anchor=\"end\">\(esc(bins[last]))</text>"
        }
        return s + "</svg></div>"
    }

    static func pct(_ v: Double) -> String { String(format: "%.1f%%", 100 * v) }
    static func num(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "-" }
        return abs(v) >= 100 ? String(format: "%.1f", v) : String(format: "%.3g", v)
    }
    static func f1(_ v: Double) -> String { String(format: "%.1f", v) }
    static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
