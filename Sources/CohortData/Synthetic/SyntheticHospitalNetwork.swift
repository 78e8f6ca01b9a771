public import CohortTensor
import Foundation

/// A synthetic network of hospitals with a 30-day readmission outcome: Cohort's built-in default data.
///
/// The generative model is documented in `docs/synthetic-data.md`. In short: each hospital has a type (teaching,
/// community, rural, specialty) that sets its size, case mix, lab practices and missingness; patients get
/// demographics, diagnosis group, admission type, comorbidity burden, prior admissions, length of stay, five lab
/// values and a discharge destination; the outcome follows one shared non-linear logistic model plus a
/// hospital-specific intercept. Hospitals differ in covariates (case mix, lab calibration), in prevalence and in
/// size (about 100 to 10,000 patients), so a small hospital alone cannot learn the shared model well.
///
/// Everything is a deterministic function of the seed and the number of hospitals.
public struct SyntheticHospitalNetwork: Sendable {
    /// Hospital types.
    public enum HospitalType: String, Sendable, CaseIterable, Codable {
        case teaching, community, rural, specialty
    }

    /// The hidden parameters of one hospital.
    public struct Profile: Sendable, Codable {
        public var name: String
        public var type: HospitalType
        public var patients: Int
        /// Shift of the mean age, in years.
        public var ageShift: Double
        /// Multiplier of the comorbidity rate.
        public var comorbidityFactor: Double
        /// Probabilities of the diagnosis groups, in ``SyntheticHospitalNetwork/diagnoses`` order.
        public var diagnosisMix: [Double]
        /// Probability that an admission is elective.
        public var electiveRate: Double
        /// Hospital effect on the readmission log-odds.
        public var outcomeShift: Double
        /// Multiplicative calibration bias of the creatinine assay.
        public var creatinineCalibration: Double
        /// Additive calibration bias of the glucose assay (mg/dL).
        public var glucoseOffset: Double
        /// Missingness rates of albumin, glucose, prior admissions, hemoglobin, sodium.
        public var missingAlbumin: Double
        public var missingGlucose: Double
        public var missingPriorAdmissions: Double
        public var missingHemoglobin: Double
        public var missingSodium: Double
        /// Missingness of smoking status and living situation.
        public var missingSocialHistory: Double
        /// Probabilities of the insurance types.
        public var insuranceMix: [Double]
    }

    public static let diagnoses = [
        "heart_failure", "myocardial_infarction", "arrhythmia", "pneumonia", "copd", "sepsis", "stroke",
        "hip_fracture", "joint_replacement", "cancer", "gi_bleed", "other",
    ]
    /// Effect of each diagnosis on the readmission log-odds.
    static let diagnosisEffect: [Double] = [0.62, 0.30, 0.10, 0.28, 0.50, 0.55, 0.22, 0.30, -0.75, 0.55, 0.38, 0.0]
    /// Base diagnosis mix of each hospital type (before hospital-specific jitter).
    static let typeMix: [HospitalType: [Double]] = [
        .teaching: [0.10, 0.07, 0.06, 0.09, 0.06, 0.07, 0.07, 0.05, 0.09, 0.14, 0.05, 0.15],
        .community: [0.12, 0.07, 0.07, 0.13, 0.10, 0.07, 0.07, 0.06, 0.07, 0.05, 0.05, 0.14],
        .rural: [0.13, 0.05, 0.07, 0.16, 0.13, 0.08, 0.06, 0.07, 0.03, 0.03, 0.05, 0.14],
    ]
    static let cardiacMix: [Double] = [0.34, 0.22, 0.20, 0.03, 0.02, 0.02, 0.04, 0.01, 0.02, 0.01, 0.02, 0.07]
    static let oncologyMix: [Double] = [0.03, 0.02, 0.02, 0.06, 0.03, 0.08, 0.02, 0.02, 0.04, 0.55, 0.05, 0.08]
    public static let admissionTypes = ["emergency", "urgent", "elective"]
    public static let dischargeDestinations = ["home", "home_care", "skilled_nursing", "rehab"]
    public static let smokingStatus = ["never", "former", "current"]
    public static let insuranceTypes = ["medicare", "medicaid", "private", "self_pay"]
    public static let labelColumn = "readmitted_30d"

    public let seed: UInt64
    public let hospitalCount: Int
    /// Fraction of each hospital's patients held out as its test set.
    public let testFraction: Double
    public let profiles: [Profile]

    /// Creates the network's hospital profiles (patients are generated on demand).
    public init(seed: UInt64 = 42, hospitals: Int = 47, testFraction: Double = 0.25) {
        precondition(hospitals >= 1, "need at least one hospital")
        self.seed = seed
        self.hospitalCount = hospitals
        self.testFraction = testFraction
        let root = RandomSource(seed: seed).derived("synthetic-hospital-network")
        var profiles = [Profile]()
        let width = max(2, String(hospitals).count)
        for h in 0..<hospitals {
            var rng = root.derived("hospital", String(h))
            let type: HospitalType
            // A fixed pattern guarantees every type appears; the order is then shuffled by the seed below.
            switch h % 20 {
            case 0, 7, 14: type = .teaching
            case 3, 10, 17, 1: type = .specialty
            case 2, 5, 9, 12, 16, 19: type = .rural
            default: type = .community
            }
            let (lo, hi): (Double, Double) =
                switch type {
                case .teaching: (2000, 10000)
                case .community: (250, 1500)
                case .rural: (100, 400)
                case .specialty: (200, 1200)
                }
            var patients = Int(Math.exp(rng.uniform(Math.log(lo), Math.log(hi))).rounded())
            if h == 0 { patients = Int(hi) }       // the largest teaching hospital: about 10,000 patients
            if h == 2 { patients = Int(lo) }       // the smallest rural hospital: about 100 patients
            let base = type == .specialty ? (rng.bernoulli(0.5) ? Self.cardiacMix : Self.oncologyMix) : Self.typeMix[type]!
            let mix = rng.dirichlet(base.map { $0 * 80 })
            let profile = Profile(
                name: "hospital-" + String(repeating: "0", count: max(0, width - String(h + 1).count)) + String(h + 1),
                type: type,
                patients: patients,
                ageShift: (type == .rural ? 6 : type == .teaching ? -3 : type == .specialty ? 2 : 0) + rng.gaussian() * 3,
                comorbidityFactor: (type == .rural ? 1.15 : type == .teaching ? 1.1 : 1.0) * Math.exp(rng.gaussian() * 0.12),
                diagnosisMix: mix,
                electiveRate: min(0.6, max(0.05, (type == .teaching || type == .specialty ? 0.3 : 0.18) + rng.gaussian() * 0.05)),
                outcomeShift: (type == .rural ? 0.15 : type == .specialty ? 0.1 : 0) + rng.gaussian() * 0.3,
                creatinineCalibration: 1 + rng.gaussian() * 0.06,
                glucoseOffset: rng.gaussian() * 6,
                missingAlbumin: min(0.6, (type == .rural ? 0.3 : type == .community ? 0.12 : 0.04) * Math.exp(rng.gaussian() * 0.4)),
                missingGlucose: min(0.4, (type == .rural ? 0.1 : 0.03) * Math.exp(rng.gaussian() * 0.4)),
                missingPriorAdmissions: rng.bernoulli(0.25) ? rng.uniform(0.05, 0.2) : 0,
                missingHemoglobin: rng.uniform(0, 0.03),
                missingSodium: rng.uniform(0, 0.02),
                missingSocialHistory: min(0.7, (type == .rural ? 0.35 : type == .community ? 0.15 : 0.05) * Math.exp(rng.gaussian() * 0.5)),
                insuranceMix: rng.dirichlet((type == .rural ? [0.5, 0.22, 0.2, 0.08] : type == .teaching ? [0.38, 0.2, 0.36, 0.06] : [0.45, 0.17, 0.32, 0.06]).map { $0 * 50 }))
            profiles.append(profile)
        }
        self.profiles = profiles
    }

    /// The schema of the generated files (embedded: the default data needs no file).
    public static let schemaYAML = """
        name: synthetic-readmission
        columns:
          - {name: patient_id, type: numeric, role: id, description: "row identifier, unique within a hospital"}
          - {name: age, type: numeric, range: [18, 100], unit: years}
          - {name: sex, type: binary, categories: [male, female]}
          - {name: admission_type, type: categorical, categories: [emergency, urgent, elective]}
          - {name: primary_diagnosis, type: categorical, categories: [heart_failure, myocardial_infarction, arrhythmia, pneumonia, copd, sepsis, stroke, hip_fracture, joint_replacement, cancer, gi_bleed, other]}
          - {name: charlson_index, type: numeric, range: [0, 15], description: "Charlson comorbidity index"}
          - {name: prior_admissions, type: numeric, range: [0, 30], description: "admissions in the previous 12 months"}
          - {name: ed_visits_6m, type: numeric, range: [0, 40], description: "emergency department visits in the previous 6 months"}
          - {name: medications, type: numeric, range: [0, 40], description: "medications at discharge"}
          - {name: length_of_stay, type: numeric, range: [1, 120], unit: days}
          - {name: icu_stay, type: binary, description: "any ICU stay during the admission"}
          - {name: hemoglobin, type: numeric, range: [4, 20], unit: g/dL}
          - {name: creatinine, type: numeric, range: [0.2, 15], unit: mg/dL}
          - {name: sodium, type: numeric, range: [110, 170], unit: mmol/L}
          - {name: albumin, type: numeric, range: [1, 6], unit: g/dL}
          - {name: glucose, type: numeric, range: [30, 800], unit: mg/dL}
          - {name: systolic_bp, type: numeric, range: [60, 250], unit: mmHg, description: "at discharge"}
          - {name: bmi, type: numeric, range: [12, 70], unit: kg/m2}
          - {name: smoking, type: categorical, categories: [never, former, current]}
          - {name: lives_alone, type: binary}
          - {name: insurance, type: categorical, categories: [medicare, medicaid, private, self_pay]}
          - {name: weekend_discharge, type: binary}
          - {name: discharge_destination, type: categorical, categories: [home, home_care, skilled_nursing, rehab]}
          - {name: readmitted_30d, type: binary, role: label, description: "unplanned readmission within 30 days"}
        """

    /// The schema of the generated files.
    public static func schema() -> DatasetSchema {
        // The embedded schema is a constant checked by the test suite; failing to parse it is a programming error.
        try! DatasetSchema.parse(yaml: schemaYAML, source: "<built-in synthetic schema>")
    }

    /// One generated hospital: its profile and its train and test files as CSV bytes.
    public struct Hospital: Sendable {
        public var profile: Profile
        public var trainCSV: [UInt8]
        public var testCSV: [UInt8]
    }

    /// Generates one hospital's patients (deterministic; hospitals are independent of each other).
    public func hospital(_ index: Int) -> Hospital {
        let p = self.profiles[index]
        var rng = RandomSource(seed: self.seed).derived("synthetic-hospital-network", "patients", String(index))
        let header = "patient_id,age,sex,admission_type,primary_diagnosis,charlson_index,prior_admissions,ed_visits_6m,medications,length_of_stay,icu_stay,hemoglobin,creatinine,sodium,albumin,glucose,systolic_bp,bmi,smoking,lives_alone,insurance,weekend_discharge,discharge_destination,readmitted_30d\n"
        var rows = [String]()
        var labels = [Int32]()
        rows.reserveCapacity(p.patients)
        for i in 0..<p.patients {
            let (row, y) = Self.patient(id: i + 1, profile: p, rng: &rng)
            rows.append(row)
            labels.append(y)
        }
        var splitRng = rng.derived("split")
        let split = DataSplit.trainTest(labels: labels, testFraction: self.testFraction, rng: &splitRng)
        func csv(_ idx: [Int]) -> [UInt8] {
            var s = header
            s.reserveCapacity(header.count + idx.count * 80)
            for i in idx { s += rows[i]; s += "\n" }
            return Array(s.utf8)
        }
        return Hospital(profile: p, trainCSV: csv(split.train), testCSV: csv(split.test))
    }

    /// A patient's true (unobserved) characteristics.
    public struct Patient: Sendable {
        public var age: Double
        public var female: Bool
        public var admission: Int
        public var diagnosis: Int
        public var charlson: Double
        public var prior: Double
        public var edVisits: Double
        public var medications: Double
        public var los: Double
        public var icu: Bool
        public var hemoglobin: Double
        public var creatinine: Double
        public var sodium: Double
        public var albumin: Double
        public var glucose: Double
        public var systolic: Double
        public var bmi: Double
        public var smoking: Int
        public var livesAlone: Bool
        public var insurance: Int
        public var weekend: Bool
        public var discharge: Int
    }

    /// The true readmission log-odds of a patient without the hospital effect (documented in
    /// `docs/synthetic-data.md`).
    public static func riskScore(_ p: Patient) -> Double {
        var z = -4.3
        z += 0.018 * (p.age - 65) + 0.035 * max(0, p.age - 80)
        z += 0.16 * p.charlson
        z += 0.30 * min(p.prior, 6)
        z += 0.22 * min(p.edVisits, 5)
        z += 0.05 * max(0, p.medications - 5)
        z += 0.40 * Math.log(p.los / 4)
        z += p.icu ? 0.30 : 0
        z += 0.40 * max(0, 12 - p.hemoglobin)
        z += 0.50 * max(0, p.creatinine - 1.3)
        z += 0.65 * max(0, 3.4 - p.albumin)
        z += 0.11 * abs(p.sodium - 139) / 3.5 * (p.sodium < 135 ? 1.6 : 1)
        z += 0.15 * max(0, (p.glucose - 180) / 60)
        z += 0.25 * max(0, (100 - p.systolic) / 15)
        z += 0.02 * abs(p.bmi - 26) - 0.02 * 4
        z += [0, 0.05, 0.2][p.smoking]
        z += p.livesAlone ? 0.25 : 0
        z += [0, 0.22, -0.12, 0.28][p.insurance]
        z += p.weekend ? 0.08 : 0
        z += diagnosisEffect[p.diagnosis]
        z += [0.25, 0.05, -0.4][p.admission]
        z += [0.0, 0.22, 0.45, 0.1][p.discharge]
        z += p.female ? -0.05 : 0
        // Heart failure with a long stay and a high comorbidity burden is the classic readmission risk.
        if p.diagnosis == 0 { z += 0.25 * max(0, Math.log(p.los / 4)) * min(p.charlson, 6) / 3 }
        // Living alone matters most for the frail elderly.
        if p.livesAlone && p.age > 75 { z += 0.2 }
        return z
    }

    static func patient(id: Int, profile h: Profile, rng: inout RandomSource) -> (String, Int32) {
        let dx = rng.categorical(h.diagnosisMix)
        let dxAge: [Double] = [8, 4, 5, 3, 6, 4, 7, 14, 3, 1, -4, -3]
        let age = min(100, max(18, rng.gaussian(mean: 62 + h.ageShift + dxAge[dx], standardDeviation: 15)))
        let female = rng.bernoulli(dx == 1 ? 0.38 : dx == 7 ? 0.7 : 0.52)
        let electiveBase: [Double] = [0.05, 0.02, 0.15, 0.02, 0.05, 0.01, 0.02, 0.05, 0.95, 0.45, 0.05, 0.3]
        let pElective = min(0.97, electiveBase[dx] * (0.5 + 2.5 * h.electiveRate))
        let admission = rng.bernoulli(pElective) ? 2 : (rng.bernoulli(0.2) ? 1 : 0)
        let dxCharlson: [Double] = [1.4, 0.8, 0.5, 0.5, 1.2, 0.8, 0.7, 0.4, 0.1, 1.8, 0.7, 0.2]
        let rate = (0.4 + 0.04 * max(0, age - 40) + dxCharlson[dx]) * h.comorbidityFactor
        let charlson = Double(min(15, rng.poisson(rate)))
        let prior = Double(min(30, rng.poisson(0.2 + 0.18 * charlson + (admission == 2 ? -0.1 : 0.1))))
        let edVisits = Double(min(40, rng.poisson(0.25 + 0.1 * charlson + 0.3 * prior)))
        let medications = Double(min(40, rng.poisson(2.5 + 0.9 * charlson + (age > 70 ? 1.5 : 0))))
        let dxLos: [Double] = [0.2, 0.1, -0.1, 0.15, 0.1, 0.45, 0.35, 0.35, -0.2, 0.3, 0.05, -0.15]
        let logLos = Math.log(3.2) + 0.05 * charlson + dxLos[dx] + (admission == 2 ? -0.2 : 0) + (h.type == .teaching ? 0.08 : 0)
        let los = min(120, max(1, (Math.exp(rng.gaussian(mean: logLos, standardDeviation: 0.55))).rounded(.up)))
        let dxIcu: [Double] = [0.12, 0.35, 0.1, 0.1, 0.12, 0.5, 0.25, 0.05, 0.02, 0.08, 0.15, 0.04]
        let icu = rng.bernoulli(dxIcu[dx])
        let hemoglobin = min(19.5, max(5, rng.gaussian(mean: 13.6 - (female ? 1.1 : 0) - 0.13 * charlson - (dx == 9 ? 0.9 : dx == 10 ? 2.0 : 0), standardDeviation: 1.6)))
        let creatinineTrue = Math.exp(rng.gaussian(mean: Math.log(0.95) + 0.055 * charlson + 0.005 * (age - 60) + (dx == 0 ? 0.15 : 0), standardDeviation: 0.33))
        let creatinine = min(14.5, max(0.25, creatinineTrue * h.creatinineCalibration))
        let sodium = min(165, max(115, rng.gaussian(mean: 139 - (dx == 0 ? 1.5 : 0) - (dx == 5 ? 1 : 0), standardDeviation: 3.6)))
        let albumin = min(5.5, max(1.2, rng.gaussian(mean: 3.9 - 0.07 * charlson - (dx == 5 ? 0.45 : 0) - (dx == 9 ? 0.3 : 0), standardDeviation: 0.45)))
        let glucoseTrue = Math.exp(rng.gaussian(mean: Math.log(108) + 0.045 * charlson, standardDeviation: 0.3))
        let glucose = min(790, max(35, glucoseTrue + h.glucoseOffset))
        let systolic = min(240, max(70, rng.gaussian(mean: 128 + 0.2 * (age - 60) - (dx == 0 ? 6 : 0) - (dx == 5 ? 10 : 0), standardDeviation: 17)))
        let bmi = min(65, max(14, rng.gaussian(mean: 28 - (dx == 9 ? 2.5 : 0) + (dx == 8 ? 2 : 0), standardDeviation: 5.5)))
        let smoking = rng.categorical(dx == 4 ? [0.15, 0.5, 0.35] : [0.5, 0.32, 0.18])
        let livesAlone = rng.bernoulli(age > 75 ? 0.38 : 0.18)
        let insurance = age >= 65 ? (rng.bernoulli(0.85) ? 0 : rng.categorical([0, 0.3, 0.7, 0])) : 1 + rng.categorical(Array(h.insuranceMix.dropFirst()))
        let weekend = rng.bernoulli(0.2)
        let dz = [0.0,
                  -2.2 + 0.03 * (age - 65) + 0.15 * charlson + (livesAlone ? 0.4 : 0),
                  -3.6 + 0.07 * (age - 65) + 0.2 * charlson + 0.08 * los,
                  -3.2 + 0.02 * (age - 65) + (dx == 7 || dx == 8 ? 2.0 : 0) + (dx == 6 ? 1.5 : 0) + 0.05 * los]
        let discharge = rng.categorical(dz.map { Math.exp($0) })
        // The outcome uses true lab values (the assay bias is a measurement artefact the model must live with).
        let patient = Patient(
            age: age, female: female, admission: admission, diagnosis: dx, charlson: charlson, prior: prior,
            edVisits: edVisits, medications: medications, los: los, icu: icu, hemoglobin: hemoglobin,
            creatinine: creatinineTrue, sodium: sodium, albumin: albumin, glucose: glucoseTrue, systolic: systolic,
            bmi: bmi, smoking: smoking, livesAlone: livesAlone, insurance: insurance, weekend: weekend, discharge: discharge)
        let z = Self.riskScore(patient) + h.outcomeShift
        let y: Int32 = rng.uniform() < 1 / (1 + Math.exp(-z)) ? 1 : 0

        func fmt(_ v: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", v) }
        func maybe(_ s: String, _ pMissing: Double) -> String { rng.bernoulli(pMissing) ? "NA" : s }
        let fields: [String] = [
            String(id),
            String(Int(age.rounded(.down))),
            female ? "female" : "male",
            Self.admissionTypes[admission],
            Self.diagnoses[dx],
            String(Int(charlson)),
            maybe(String(Int(prior)), h.missingPriorAdmissions),
            maybe(String(Int(edVisits)), h.missingPriorAdmissions),
            String(Int(medications)),
            String(Int(los)),
            icu ? "1" : "0",
            maybe(fmt(hemoglobin, 1), h.missingHemoglobin),
            fmt(creatinine, 2),
            maybe(fmt(sodium, 0), h.missingSodium),
            maybe(fmt(albumin, 1), h.missingAlbumin),
            maybe(fmt(glucose, 0), h.missingGlucose),
            fmt(systolic, 0),
            maybe(fmt(bmi, 1), h.missingSocialHistory / 2),
            maybe(Self.smokingStatus[smoking], h.missingSocialHistory),
            maybe(livesAlone ? "1" : "0", h.missingSocialHistory),
            Self.insuranceTypes[insurance],
            weekend ? "1" : "0",
            Self.dischargeDestinations[discharge],
            String(y),
        ]
        return (fields.joined(separator: ","), y)
    }

    /// Writes every hospital as `DIR/<name>_train.csv` and `DIR/<name>_test.csv`, plus `DIR/schema.yaml`.
    public func write(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data((Self.schemaYAML + "\n").utf8).write(to: directory.appendingPathComponent("schema.yaml"))
        for h in 0..<self.hospitalCount {
            let hospital = self.hospital(h)
            try Data(hospital.trainCSV).write(to: directory.appendingPathComponent("\(hospital.profile.name)_train.csv"))
            try Data(hospital.testCSV).write(to: directory.appendingPathComponent("\(hospital.profile.name)_test.csv"))
        }
    }
}
