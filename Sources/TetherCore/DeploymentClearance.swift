import Foundation

/// The identity of a file's contents: an FNV-1a 64-bit digest of its bytes, written
/// `fnv1a64:<hex>`. It names inputs (policies, manifests, randomization specs) so that a result
/// follows the bytes it was computed from, not a path that may be overwritten or moved. It is not
/// a cryptographic hash: it detects changes, it does not resist forgery.
public enum FileDigest {
    /// The digest of `data`.
    public static func fnv1a64(_ data: Data) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return "fnv1a64:" + String(hash, radix: 16)
    }

    /// The digest of the file at `path`; throws when it cannot be read.
    public static func fnv1a64(ofFile path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TetherError("cannot read the file", at: path, hint: "check the path")
        }
        return fnv1a64(data)
    }
}

/// Why a policy may run on a robot: the validation gate cleared it (its last validation for this
/// robot and manifest said GO under a randomization), or an operator overrode the gate with a
/// reason. It travels with what it allowed: each trial record, the flight recording's metadata
/// and the history (see docs/deployment-gate.md). `DeploymentGate` in TetherHistory decides it.
public struct DeploymentClearance: Sendable, Codable, Equatable {
    /// How the policy got through the gate.
    public enum Status: String, Sendable, Codable {
        /// Its last validation for this robot and manifest said GO under a randomization.
        case cleared = "GO"
        /// It did not clear the gate; an operator ran it anyway, with a reason.
        case overridden = "OVERRIDE"
    }

    /// The validation a clearance refers to: the one that cleared the policy, or (for an
    /// override) the last one there was, if any.
    public struct Validation: Sendable, Codable, Equatable {
        /// Row id in the history database.
        public var id: Int64?
        /// When it finished, ISO 8601 UTC ("2026-12-05T01:17:35Z").
        public var date: String
        /// Trials and successes.
        public var trials: Int
        public var successes: Int
        /// Lower bound of its Clopper–Pearson interval and its threshold (success rates, 0…1).
        public var lower: Double?
        public var threshold: Double?
        /// GO or NO-GO.
        public var decision: String
        /// The randomization spec it ran under (nil: the nominal model only).
        public var randomization: String?
        /// Its result file, if one was written.
        public var artifact: String?

        /// Creates a reference.
        public init(id: Int64?, date: String, trials: Int, successes: Int, lower: Double?, threshold: Double?, decision: String,
                    randomization: String?, artifact: String? = nil) {
            self.id = id; self.date = date; self.trials = trials; self.successes = successes; self.lower = lower
            self.threshold = threshold; self.decision = decision; self.randomization = randomization; self.artifact = artifact
        }

        /// "#12 of 2026-12-05 01:23 UTC: 29/30, lower bound 83.3 % ≥ 50.0 %, GO, randomization cal/randomization.yaml".
        public var sentence: String {
            var parts = ["\(successes)/\(trials)"]
            if let lower {
                let relation = threshold.map { lower >= $0 ? " ≥ " + Self.percent($0) : " < " + Self.percent($0) } ?? ""
                parts.append("lower bound \(Self.percent(lower))\(relation)")
            }
            parts.append(decision)
            parts.append(randomization.map { "randomization \($0)" } ?? "nominal model only")
            return "\(id.map { "#\($0) " } ?? "")of \(Self.minutes(date)): " + parts.joined(separator: ", ")
        }

        /// "2026-12-05 01:17 UTC" from "2026-12-05T01:17:35Z": enough to find the run in `tether history`.
        static func minutes(_ iso: String) -> String {
            iso.count >= 16 ? iso.prefix(16).replacingOccurrences(of: "T", with: " ") + " UTC" : iso
        }

        static func percent(_ x: Double) -> String { String(format: "%.1f %%", 100 * x) }

        /// A date as the ISO 8601 UTC text of `date`.
        public static func iso8601(_ date: Date) -> String {
            let f = ISO8601DateFormatter()
            f.timeZone = TimeZone(identifier: "UTC")
            return f.string(from: date)
        }
    }

    /// GO or OVERRIDE.
    public var status: Status
    /// Robot name (the manifest's).
    public var robot: String
    /// Policy path as given, and the digest of its bytes (`FileDigest`).
    public var policy: String
    public var policyDigest: String
    /// Manifest path and the digest of its bytes: joint order, gains and observation layout are
    /// part of what was validated.
    public var manifest: String
    public var manifestDigest: String
    /// Backend the policy ran on (emulator, ros2, …).
    public var backend: RobotBackend
    /// The validation that cleared it, or the last one there was (override), if any.
    public var validation: Validation?
    /// Why the gate would have refused (override only).
    public var refusal: String?
    /// The operator's reason (override only).
    public var overrideReason: String?

    /// Creates a clearance.
    public init(status: Status, robot: String, policy: String, policyDigest: String, manifest: String, manifestDigest: String,
                backend: RobotBackend, validation: Validation? = nil, refusal: String? = nil, overrideReason: String? = nil) {
        self.status = status; self.robot = robot; self.policy = policy; self.policyDigest = policyDigest; self.manifest = manifest
        self.manifestDigest = manifestDigest; self.backend = backend; self.validation = validation; self.refusal = refusal
        self.overrideReason = overrideReason
    }

    /// One line for people: which validation cleared the policy, or who overrode what and why.
    public var sentence: String {
        switch status {
        case .cleared:
            return "cleared by validation " + (validation?.sentence ?? "(unknown)")
        case .overridden:
            return "gate OVERRIDDEN (\"\(overrideReason ?? "")\"): " + (refusal ?? "no GO validation")
        }
    }

    /// The clearance as MCAP channel metadata (string pairs), for flight recordings.
    public var metadata: [String: String] {
        var m = ["gate": status.rawValue, "gate.sentence": sentence, "gate.policy_digest": policyDigest,
                 "gate.manifest_digest": manifestDigest, "gate.backend": backend.rawValue]
        if let reason = overrideReason { m["gate.override_reason"] = reason }
        if let v = validation {
            if let id = v.id { m["gate.validation_id"] = String(id) }
            m["gate.validation"] = v.sentence
        }
        return m
    }
}
