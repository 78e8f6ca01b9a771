public import CohortCompression

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

extension WireProtocol {
    /// The update encodings this build can send and decode (advertised at hello).
    public static let codecs = ["dense", "q8", "q4", "topk", "deflate"]

    /// The encoding of a regional aggregator's update: its exact partial sum (``ExactAccumulator/compactSerialized()``,
    /// about 5-7 bytes per value), which only an aggregator's certificate may send.
    public static let partialSumEncoding = "exact-partial-sum"

    /// The encodings a codec needs from both sides.
    public static func features(of codec: CodecSpec) -> Set<String> {
        var f: Set<String> = ["dense"]
        if codec.isSparse { f.insert("topk") }
        if let q = codec.quantization { f.insert("q\(q.bits)") }
        if codec.isLossless { f.insert("deflate") }
        return f
    }

    /// Why a peer advertising `advertised` cannot use `codec` (nil if it can). An empty list means dense only.
    public static func codecGap(_ codec: CodecSpec, advertised: [String]) -> String? {
        let have = Set(advertised.isEmpty ? ["dense"] : advertised)
        let missing = self.features(of: codec).subtracting(have)
        guard !missing.isEmpty else { return nil }
        return "cannot encode updates as '\(codec)' (it lacks \(missing.sorted().joined(separator: ", ")); it offers \(have.sorted().joined(separator: ", "))); upgrade it or choose another compression"
    }
}
