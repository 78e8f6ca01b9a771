import Foundation

/// Normalises patient identifiers before private set intersection, so that formatting differences between sites
/// do not hide a match.
///
/// Steps, in order: trim surrounding white space; Unicode NFKC (compatibility composition: full-width digits
/// become ASCII digits, ligatures split); case folding (locale-independent); removal of separators, i.e. white
/// space and Unicode punctuation (`-`, `_`, `.`, `/`, `:`, `,`, quotes, brackets, dashes of every kind).
/// Letters, digits and symbols such as `+` stay. So `" MRN-0012 345 "`, `"mrn0012345"` and `"ＭＲＮ００１２３４５"`
/// all become `mrn0012345`. Identifiers that normalise to the empty string are dropped.
public enum IdentifierNormalizer {
    /// Names this normalisation in ``PSIParameters``; both sides must use the same.
    public static let version = "trim-nfkc-casefold-strip-separators-v1"

    static let separators = CharacterSet.whitespacesAndNewlines.union(.punctuationCharacters)

    /// The normalised form of an identifier.
    public static func normalize(_ identifier: String) -> String {
        let trimmed = identifier.trimmingCharacters(in: .whitespacesAndNewlines)
        let folded = trimmed.precomposedStringWithCompatibilityMapping.folding(options: [.caseInsensitive], locale: nil)
        var out = String.UnicodeScalarView()
        for s in folded.unicodeScalars where !Self.separators.contains(s) { out.append(s) }
        return String(out)
    }
}
