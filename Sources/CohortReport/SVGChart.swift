import Foundation

/// Small, dependency-free SVG charts for self-contained HTML reports.
enum SVGChart {
    struct Series {
        var name: String
        var color: String
        var points: [(x: Double, y: Double)]
        var dashed = false
    }

    struct Reference {
        var name: String
        var color: String
        var y: Double
    }

    /// A line chart with optional horizontal reference lines and a legend.
    static func lines(
        _ series: [Series], references: [Reference] = [], xLabel: String, yLabel: String,
        width: Double = 720, height: Double = 300, yRange: (Double, Double)? = nil
    ) -> String {
        let left = 56.0, right = 16.0, top = 16.0, bottom = 64.0
        let pw = width - left - right, ph = height - top - bottom
        let xs = series.flatMap { $0.points.map(\.x) }
        let ys = series.flatMap { $0.points.map(\.y) } + references.map(\.y)
        guard let xmin = xs.min(), let xmax = xs.max(), let ymin0 = ys.min(), let ymax0 = ys.max() else { return "" }
        var (ymin, ymax) = yRange ?? Self.niceRange(ymin0, ymax0)
        if ymax <= ymin { ymax = ymin + 1 }
        let xspan = max(xmax - xmin, 1)
        func px(_ x: Double) -> Double { left + (x - xmin) / xspan * pw }
        func py(_ y: Double) -> Double { top + (1 - (y - ymin) / (ymax - ymin)) * ph }
        var s = "<svg viewBox=\"0 0 \(Int(width)) \(Int(height))\" class=\"chart\" role=\"img\" aria-label=\"\(esc(yLabel)) by \(esc(xLabel))\">"
        // Grid and y ticks.
        for t in Self.ticks(ymin, ymax, count: 5) {
            let y = py(t)
            s += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + pw))\" y2=\"\(f(y))\" class=\"grid\"/>"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\" class=\"tick\">\(Self.label(t))</text>"
        }
        for t in Self.ticks(xmin, xmax, count: min(10, Int(xspan) + 1)) where t == t.rounded() {
            let x = px(t)
            s += "<text x=\"\(f(x))\" y=\"\(f(top + ph + 16))\" text-anchor=\"middle\" class=\"tick\">\(Int(t))</text>"
        }
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top + ph))\" x2=\"\(f(left + pw))\" y2=\"\(f(top + ph))\" class=\"axis\"/>"
        s += "<text x=\"\(f(left + pw / 2))\" y=\"\(f(top + ph + 34))\" text-anchor=\"middle\" class=\"axis-label\">\(esc(xLabel))</text>"
        s += "<text transform=\"translate(14 \(f(top + ph / 2))) rotate(-90)\" text-anchor=\"middle\" class=\"axis-label\">\(esc(yLabel))</text>"
        for r in references {
            let y = py(r.y)
            s += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + pw))\" y2=\"\(f(y))\" stroke=\"\(r.color)\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>"
        }
        for se in series where !se.points.isEmpty {
            let d = se.points.enumerated().map { i, p in "\(i == 0 ? "M" : "L")\(f(px(p.x))),\(f(py(p.y)))" }.joined()
            s += "<path d=\"\(d)\" fill=\"none\" stroke=\"\(se.color)\" stroke-width=\"2.5\"\(se.dashed ? " stroke-dasharray=\"3 3\"" : "")/>"
            if se.points.count <= 60 {
                for p in se.points {
                    s += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"2.5\" fill=\"\(se.color)\"><title>\(esc(se.name)) round \(Int(p.x)): \(String(format: "%.4f", p.y))</title></circle>"
                }
            }
        }
        // Legend along the bottom, wrapped onto extra rows when it does not fit.
        var lx = left
        var ly = height - 10
        var extraRows = 0
        for item in series.map({ ($0.name, $0.color, $0.dashed ? "3 3" : "") }) + references.map({ ($0.name, $0.color, "6 4") }) {
            let w = 40 + Double(item.0.count) * 6.6
            if lx + w > width - right && lx > left {
                lx = left
                ly += 18
                extraRows += 1
            }
            s += "<line x1=\"\(f(lx))\" y1=\"\(f(ly - 4))\" x2=\"\(f(lx + 22))\" y2=\"\(f(ly - 4))\" stroke=\"\(item.1)\" stroke-width=\"2.5\"\(item.2.isEmpty ? "" : " stroke-dasharray=\"\(item.2)\"")/>"
            s += "<text x=\"\(f(lx + 27))\" y=\"\(f(ly))\" class=\"legend\">\(esc(item.0))</text>"
            lx += w
        }
        if extraRows > 0 {
            s = s.replacingOccurrences(of: "viewBox=\"0 0 \(Int(width)) \(Int(height))\"", with: "viewBox=\"0 0 \(Int(width)) \(Int(height) + 18 * extraRows)\"")
        }
        return s + "</svg>"
    }

    struct DotRow {
        var label: String
        var values: [(name: String, color: String, value: Double?)]
    }

    /// One row per item with a dot per approach on a shared horizontal scale (a "dumbbell" chart).
    static func dots(_ rows: [DotRow], xLabel: String, width: Double = 720) -> String {
        let left = 190.0, right = 20.0, top = 24.0, rowH = 17.0, bottom = 54.0
        let height = top + Double(rows.count) * rowH + bottom
        let pw = width - left - right
        let vals = rows.flatMap { $0.values.compactMap(\.value) }
        guard let vmin = vals.min(), let vmax = vals.max() else { return "" }
        let (xmin, xmax) = Self.niceRange(vmin, vmax)
        func px(_ v: Double) -> Double { left + (v - xmin) / (xmax - xmin) * pw }
        var s = "<svg viewBox=\"0 0 \(Int(width)) \(Int(height))\" class=\"chart\" role=\"img\" aria-label=\"\(esc(xLabel)) per site\">"
        for t in Self.ticks(xmin, xmax, count: 6) {
            s += "<line x1=\"\(f(px(t)))\" y1=\"\(f(top - 6))\" x2=\"\(f(px(t)))\" y2=\"\(f(top + Double(rows.count) * rowH))\" class=\"grid\"/>"
            s += "<text x=\"\(f(px(t)))\" y=\"\(f(top - 10))\" text-anchor=\"middle\" class=\"tick\">\(Self.label(t))</text>"
        }
        for (i, r) in rows.enumerated() {
            let y = top + Double(i) * rowH + rowH / 2
            s += "<text x=\"\(f(left - 8))\" y=\"\(f(y + 4))\" text-anchor=\"end\" class=\"tick\">\(esc(r.label))</text>"
            let present = r.values.compactMap(\.value)
            if let lo = present.min(), let hi = present.max() {
                s += "<line x1=\"\(f(px(lo)))\" y1=\"\(f(y))\" x2=\"\(f(px(hi)))\" y2=\"\(f(y))\" stroke=\"#bbb\" stroke-width=\"2\"/>"
            }
            for v in r.values {
                guard let value = v.value else { continue }
                s += "<circle cx=\"\(f(px(value)))\" cy=\"\(f(y))\" r=\"4.5\" fill=\"\(v.color)\"><title>\(esc(r.label)) \(esc(v.name)): \(String(format: "%.3f", value))</title></circle>"
            }
        }
        s += "<text x=\"\(f(left + pw / 2))\" y=\"\(f(height - 28))\" text-anchor=\"middle\" class=\"axis-label\">\(esc(xLabel))</text>"
        var lx = left
        for (name, color, _) in rows.first?.values ?? [] {
            s += "<circle cx=\"\(f(lx + 5))\" cy=\"\(f(height - 10))\" r=\"4.5\" fill=\"\(color)\"/>"
            s += "<text x=\"\(f(lx + 14))\" y=\"\(f(height - 6))\" class=\"legend\">\(esc(name))</text>"
            lx += 30 + Double(name.count) * 6.6
        }
        return s + "</svg>"
    }

    static func niceRange(_ lo: Double, _ hi: Double) -> (Double, Double) {
        let span = max(hi - lo, 1e-6)
        let step = Self.niceStep(span / 5)
        return ((lo / step).rounded(.down) * step, (hi / step).rounded(.up) * step)
    }

    static func niceStep(_ raw: Double) -> Double {
        let p = pow(10, (log10(raw)).rounded(.down))
        let m = raw / p
        return (m < 1.5 ? 1 : m < 3 ? 2 : m < 7 ? 5 : 10) * p
    }

    static func ticks(_ lo: Double, _ hi: Double, count: Int) -> [Double] {
        guard hi > lo, count > 0 else { return [lo] }
        let step = Self.niceStep((hi - lo) / Double(max(1, count)))
        var t = (lo / step).rounded(.up) * step
        var out = [Double]()
        while t <= hi + step * 1e-9 {
            out.append(abs(t) < step * 1e-9 ? 0 : t)
            t += step
        }
        return out
    }

    static func label(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e6 { return String(Int(v)) }
        return String(format: abs(v) < 0.1 ? "%.3f" : "%.2f", v)
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }
}

/// HTML-escapes text.
func esc(_ s: String) -> String {
    var out = ""
    for c in s {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        default: out.append(c)
        }
    }
    return out
}
