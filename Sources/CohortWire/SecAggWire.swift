public import CohortSecAgg
public import CohortStrategy
import Foundation

extension Cohort_V1_SecureSum {
    public init(_ s: SecureSumSettings) {
        self.init()
        self.clipRange = s.clipRange
        self.scaleBits = UInt32(s.scaleBits)
    }

    public func settings() throws(WireError) -> SecureSumSettings {
        guard self.clipRange.isFinite, self.clipRange > 0, self.scaleBits <= 40 else {
            throw WireError(.invalidMessage, "secure sum needs a positive clip range and at most 40 scale bits")
        }
        return SecureSumSettings(clipRange: self.clipRange, scaleBits: Int(self.scaleBits))
    }
}

extension Cohort_V1_SecAggSetup {
    /// The public parameters of a round, with each participant's DER certificate.
    public init(_ c: SecAggConfiguration, certificates: [[UInt8]]) {
        self.init()
        self.sessionID = c.sessionID
        self.participants = c.participants
        self.neighbourhoodSize = UInt32(c.neighbourhoodSize)
        self.threshold = UInt32(c.threshold)
        self.graphSeed = c.graphSeed
        self.vectorLength = UInt64(c.vectorLength)
        self.modulusBits = UInt32(c.modulusBits)
        self.certificates = certificates.map { Data($0) }
    }

    /// The configuration (without signing keys: the caller verifies ``certificates`` and passes a verifier), checked.
    public func configuration(encoding settings: SecureSumSettings) throws(WireError) -> SecAggConfiguration {
        let c = SecAggConfiguration(
            participants: self.participants, neighbourhoodSize: Int(self.neighbourhoodSize), threshold: Int(self.threshold),
            graphSeed: self.graphSeed, vectorLength: Int(clamping: self.vectorLength),
            encoding: FixedPointEncoding(clipRange: settings.clipRange, scaleBits: settings.scaleBits, maxWeight: 1),
            modulusBits: Int(self.modulusBits), sessionID: self.sessionID)
        do throws(SecAggError) { try c.validate() } catch {
            throw WireError(.invalidMessage, "secure aggregation parameters: \(error)")
        }
        return c
    }

    /// The participants' certificates as bytes.
    public var certificateBytes: [[UInt8]] { self.certificates.map { Array($0) } }
}

extension Cohort_V1_SecAggEnvelope {
    /// Wraps a protocol message; a masked input travels as packed words, everything else as JSON.
    public init(_ message: SecAggMessage, taskID: String, jobID: String, round: Int) {
        self.init()
        self.taskID = taskID
        self.jobID = jobID
        self.round = UInt32(round)
        if case .maskedInput(let m) = message {
            self.maskedWords = Data(m.packedWords)
            self.bytesPerWord = UInt32(m.bytesPerWord)
        } else {
            // Encoding a Codable enum of plain structs cannot fail.
            self.message = (try? JSONEncoder().encode(message)) ?? Data()
        }
    }

    /// The protocol message; a masked input is attributed to `sender` (the verified identity of the stream).
    public func secAggMessage(sender: String) throws(WireError) -> SecAggMessage {
        if !self.maskedWords.isEmpty {
            guard let m = MaskedInput(sender: sender, packed: self.maskedWords, bytesPerWord: Int(self.bytesPerWord)) else {
                throw WireError(.invalidMessage, "masked input of \(self.maskedWords.count) bytes does not divide into \(self.bytesPerWord)-byte words")
            }
            return .maskedInput(m)
        }
        do { return try JSONDecoder().decode(SecAggMessage.self, from: self.message) } catch {
            throw WireError(.invalidMessage, "not a secure aggregation message: \(error)")
        }
    }
}

extension Cohort_V1_TrainInstructions {
    /// Secure aggregation settings, when the instructions carry them.
    public func secureSumSettings() throws(WireError) -> SecureSumSettings? {
        self.hasSecureSum ? try self.secureSum.settings() : nil
    }
}
