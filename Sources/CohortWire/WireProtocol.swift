/// Protocol constants of the Cohort wire protocol.
public enum WireProtocol {
    /// The protocol version this build speaks.
    public static let version: UInt32 = 1
    /// The oldest protocol version this build still accepts.
    public static let minimumVersion: UInt32 = 1
    /// Size of one chunk of a model or update transfer (well under gRPC's default 4 MiB message limit).
    public static let chunkBytes = 1 << 20

    /// This build's versions message.
    public static func versions(software: String) -> Cohort_V1_Versions {
        var v = Cohort_V1_Versions()
        v.protocol = self.version
        v.minProtocol = self.minimumVersion
        v.software = software
        return v
    }

    /// Whether a peer speaking `protocol` can talk to this build; nil if so, otherwise the reason.
    public static func incompatibility(peerProtocol: UInt32, peerMinimum: UInt32 = 0, peerSoftware: String = "") -> String? {
        if peerProtocol < self.minimumVersion {
            return "protocol version \(peerProtocol)\(peerSoftware.isEmpty ? "" : " (cohort \(peerSoftware))") is too old: this side needs protocol \(self.minimumVersion)...\(self.version); upgrade the other side"
        }
        if peerMinimum > self.version || (peerMinimum == 0 && peerProtocol > self.version) {
            return "protocol version \(peerProtocol)\(peerSoftware.isEmpty ? "" : " (cohort \(peerSoftware))") is newer than this side supports (\(self.minimumVersion)...\(self.version)); upgrade this side"
        }
        return nil
    }
}
