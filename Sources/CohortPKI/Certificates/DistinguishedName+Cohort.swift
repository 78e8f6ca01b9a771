import SwiftASN1
public import X509

extension DistinguishedName {
    /// The most specific common name (CN), or nil.
    ///
    /// swift-certificates keeps its own accessor internal, so this reads the attributes directly.
    public var commonName: String? { self.values(of: .RDNAttributeType.commonName).last }

    /// The most specific organization name (O), or nil.
    public var organizationName: String? { self.values(of: .RDNAttributeType.organizationName).last }

    /// Organizational unit names (OU), most general first.
    public var organizationalUnitNames: [String] { self.values(of: .RDNAttributeType.organizationalUnitName) }

    /// Values of every attribute of a type, most general first (the order of the encoding).
    private func values(of type: ASN1ObjectIdentifier) -> [String] {
        var result: [String] = []
        for rdn in self {
            for attribute in rdn where attribute.type == type {
                if let value = String(attribute.value) { result.append(value) }
            }
        }
        return result
    }
}
