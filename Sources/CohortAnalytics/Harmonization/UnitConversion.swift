import Foundation

/// A unit conversion of a numeric column, applied to raw cells before validation: `y = scale * x + offset`.
///
/// Either named units (`from`/`to`, plus `analyte` for conversions between mass and molar concentration) or an
/// explicit linear map (`scale`, `offset`):
/// ```yaml
/// chol: {from: mmol/L, to: mg/dL, analyte: cholesterol}
/// temperature: {from: degF, to: degC}
/// creatinine: {from: umol/L, to: mg/dL, analyte: creatinine}
/// weight: {scale: 0.45359237}          # pounds to kilograms
/// ```
public struct UnitConversion: Sendable, Hashable, Codable {
    public var from: String?
    public var to: String?
    public var analyte: String?
    public var scale: Double?
    public var offset: Double?

    public init(from: String? = nil, to: String? = nil, analyte: String? = nil, scale: Double? = nil, offset: Double? = nil) {
        self.from = from
        self.to = to
        self.analyte = analyte
        self.scale = scale
        self.offset = offset
    }

    /// Milligrams per decilitre in one millimole per litre, by analyte (molar mass / 10).
    public static let milligramsPerDecilitrePerMillimole: [String: Double] = [
        "cholesterol": 38.67, "triglycerides": 88.57, "glucose": 18.016, "urea": 2.801,
    ]
    /// Micromoles per litre in one milligram per decilitre.
    public static let micromolesPerMilligram: [String: Double] = ["creatinine": 88.42]

    /// The linear map `(scale, offset)` this conversion applies.
    public func linear(column: String) throws(AnalyticsError) -> (scale: Double, offset: Double) {
        if self.scale != nil || self.offset != nil {
            guard self.from == nil && self.to == nil else {
                throw AnalyticsError(.invalidMapping, "convert '\(column)': give either from/to units or scale/offset, not both")
            }
            let a = self.scale ?? 1, b = self.offset ?? 0
            guard a.isFinite, b.isFinite, a != 0 else {
                throw AnalyticsError(.invalidMapping, "convert '\(column)': scale must be a non-zero number")
            }
            return (a, b)
        }
        guard let from = self.from.map(Self.canonical), let to = self.to.map(Self.canonical) else {
            throw AnalyticsError(.invalidMapping, "convert '\(column)': give `from` and `to` units, or `scale` (and `offset`)")
        }
        if let m = Self.conversion(from: from, to: to, analyte: self.analyte?.lowercased()) { return m }
        if ["mg/dl", "mmol/l", "umol/l"].contains(from) && ["mg/dl", "mmol/l", "umol/l"].contains(to) && self.analyte == nil {
            throw AnalyticsError(.invalidMapping, "convert '\(column)': \(self.from!) to \(self.to!) depends on the analyte; add `analyte:` (\((Array(Self.milligramsPerDecilitrePerMillimole.keys) + Array(Self.micromolesPerMilligram.keys)).sorted().joined(separator: ", ")))")
        }
        throw AnalyticsError(.invalidMapping, "convert '\(column)': no known conversion from \(self.from!) to \(self.to!)\(self.analyte.map { " for \($0)" } ?? ""); give `scale` and `offset` instead")
    }

    /// Known conversions between canonical unit names.
    static func conversion(from: String, to: String, analyte: String?) -> (scale: Double, offset: Double)? {
        if from == to { return (1, 0) }
        switch (from, to) {
        case ("degf", "degc"): return (5.0 / 9.0, -32 * 5.0 / 9.0)
        case ("degc", "degf"): return (9.0 / 5.0, 32)
        case ("degc", "k"): return (1, 273.15)
        case ("k", "degc"): return (1, -273.15)
        case ("lb", "kg"): return (0.45359237, 0)
        case ("kg", "lb"): return (1 / 0.45359237, 0)
        case ("in", "cm"): return (2.54, 0)
        case ("cm", "in"): return (1 / 2.54, 0)
        case ("m", "cm"): return (100, 0)
        case ("cm", "m"): return (0.01, 0)
        case ("g/dl", "g/l"): return (10, 0)
        case ("g/l", "g/dl"): return (0.1, 0)
        case ("mg/dl", "mg/l"): return (10, 0)
        case ("mg/l", "mg/dl"): return (0.1, 0)
        default: break
        }
        guard let analyte else { return nil }
        if let f = Self.milligramsPerDecilitrePerMillimole[analyte] {
            if from == "mmol/l" && to == "mg/dl" { return (f, 0) }
            if from == "mg/dl" && to == "mmol/l" { return (1 / f, 0) }
        }
        if let f = Self.micromolesPerMilligram[analyte] {
            if from == "mg/dl" && to == "umol/l" { return (f, 0) }
            if from == "umol/l" && to == "mg/dl" { return (1 / f, 0) }
        }
        return nil
    }

    /// Canonical spelling of a unit: lower case, `°F`/`F`/`fahrenheit` as `degf`, `µmol/L` as `umol/l`.
    static func canonical(_ unit: String) -> String {
        let u = unit.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: "µ", with: "u")
            .replacingOccurrences(of: "μ", with: "u")
        switch u {
        case "°f", "f", "degf", "fahrenheit", "deg f": return "degf"
        case "°c", "c", "degc", "celsius", "deg c": return "degc"
        case "kelvin": return "k"
        case "lbs", "pound", "pounds": return "lb"
        case "inch", "inches": return "in"
        default: return u
        }
    }

    /// Candidate conversions into `unit` from other known units, for suggestions.
    static func candidates(into unit: String, analyte: String?) -> [(from: String, scale: Double, offset: Double)] {
        let to = Self.canonical(unit)
        let units = ["degf", "degc", "k", "lb", "kg", "in", "cm", "m", "g/dl", "g/l", "mg/dl", "mg/l", "mmol/l", "umol/l"]
        var out = [(String, Double, Double)]()
        for from in units where from != to {
            if let m = Self.conversion(from: from, to: to, analyte: analyte) { out.append((from, m.scale, m.offset)) }
        }
        return out
    }
}
