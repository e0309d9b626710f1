import Foundation
import TetherCore

/// The deployment gate: a policy runs on a robot only after its last validation for that robot
/// and manifest said GO under a randomization, or when an operator overrides the gate with a
/// reason. `tether deploy` and `tether trials` call it for every backend that is a robot
/// (`emulator`, `ros2`, and any backend added later); `sim` is the simulation side of a gap and is
/// not gated. See docs/deployment-gate.md.
///
/// The rules, and why:
/// - **The policy is its bytes.** A validation counts for the file whose FNV-1a digest it
///   recorded, whatever its path now: paths are overwritten (`improve --out`) and moved.
/// - **The manifest is part of the policy.** Joint order, gains and the observation layout live in
///   the manifest; a validation under another manifest (another digest) does not count.
/// - **The newest matching validation decides**: a GO does not outlive a later NO-GO. A shard
///   (decision PARTIAL) is not a validation; merged shards are.
/// - **A validation on the nominal model does not clear.** The gate's number is the success rate
///   under a randomization (the robot as measured, with its uncertainty); the nominal model is
///   one robot that the real one is not.
/// - **Fail closed.** With history recording off, or a database that cannot be read, nothing is
///   known about the policy, so it is refused like a policy never validated.
public enum DeploymentGate {
    /// Whether `backend` needs a clearance: every backend that is not simulation
    /// (`RobotBackend.isSimulation`, which each backend added later must answer).
    public static func isGated(backend: RobotBackend) -> Bool { !backend.isSimulation }

    /// What is about to run: which policy (by content), on which robot, under which manifest.
    public struct Subject: Sendable, Equatable {
        /// Robot name (the manifest's `name`).
        public var robot: String
        /// Policy path as given, and the digest of its bytes.
        public var policy: String
        public var policyDigest: String
        /// Manifest path, and the digest of its bytes.
        public var manifest: String
        public var manifestDigest: String
        /// Backend it is about to run on.
        public var backend: RobotBackend
        /// How the refusal names the robot in the `tether validate` command it suggests (the
        /// `--robot` given: a built-in name or the manifest path), and the randomization spec it
        /// suggests when no validation names one (e.g. the manifest's neighbour randomization.yaml).
        public var robotArgument: String?
        public var suggestedRandomization: String?

        /// Creates a subject from digests already taken.
        public init(robot: String, policy: String, policyDigest: String, manifest: String, manifestDigest: String, backend: RobotBackend,
                    robotArgument: String? = nil, suggestedRandomization: String? = nil) {
            self.robot = robot; self.policy = policy; self.policyDigest = policyDigest
            self.manifest = manifest; self.manifestDigest = manifestDigest; self.backend = backend
            self.robotArgument = robotArgument; self.suggestedRandomization = suggestedRandomization
        }

        /// Creates a subject, reading the policy and manifest files for their digests.
        public init(robot: String, policy: String, manifest: String, backend: RobotBackend, robotArgument: String? = nil,
                    suggestedRandomization: String? = nil) throws {
            try self.init(robot: robot, policy: policy, policyDigest: FileDigest.fnv1a64(ofFile: policy), manifest: manifest,
                          manifestDigest: FileDigest.fnv1a64(ofFile: manifest), backend: backend, robotArgument: robotArgument,
                          suggestedRandomization: suggestedRandomization)
        }

        /// "policy P (fnv1a64:…) … robot R with manifest M (fnv1a64:…)".
        var naming: String {
            "policy \(policy) (\(policyDigest)) has no GO validation for robot \(robot) with manifest \(manifest) (\(manifestDigest))"
        }
    }

    /// Where the gate looks: a history database, or none (recording off).
    public enum Source: Sendable, Equatable {
        /// The database at this path (a missing file holds no validations).
        case database(String)
        /// History recording is off (`TETHER_HISTORY=off`): nothing can be looked up.
        case off(reason: String)

        /// The default database of the commands (`History.defaultPath()`), or `.off`.
        public static func `default`(environment: [String: String] = ProcessInfo.processInfo.environment) -> Source {
            if let path = History.defaultPath(environment: environment) { return .database(path) }
            return .off(reason: "history recording is off (TETHER_HISTORY=\(environment["TETHER_HISTORY"] ?? ""))")
        }
    }

    /// Decides whether `subject` may run: returns its clearance (GO, or OVERRIDE when `override`
    /// is given and the gate would refuse), or throws the refusal: what is missing, where it
    /// looked, and the command that validates the policy or the option that overrides the gate.
    /// An empty or blank `override` is refused: an override without a reason records nothing.
    public static func clear(_ subject: Subject, source: Source, override: String? = nil) throws -> DeploymentClearance {
        let reason = try checkedReason(override)
        let validations: [History.Entry]
        let location: String
        switch source {
        case .off(let why):
            let refusal = TetherError("\(subject.naming): \(why), so the gate cannot look up its validations",
                                      at: "history", hint: "unset TETHER_HISTORY (or set it to the database the validations were recorded in) and run "
                                      + validateCommand(subject, randomization: nil) + ", or run anyway with --override \"reason\"")
            guard let reason else { throw refusal }
            return overridden(subject, reason: reason, refusal: "\(why): no validation could be looked up", last: nil)
        case .database(let path):
            location = "history database \(path)"
            if !FileManager.default.fileExists(atPath: path) {
                validations = []
            } else {
                do {
                    validations = try History(path: path).entries(.init(robot: subject.robot, kinds: [.validation]))
                } catch {
                    let refusal = TetherError("\(subject.naming): the history database cannot be read (\(error)), so the gate cannot look up its validations",
                                              at: path, hint: "repair or move the database (or point TETHER_HISTORY at the right one) and run "
                                              + validateCommand(subject, randomization: nil) + ", or run anyway with --override \"reason\"")
                    guard let reason else { throw refusal }
                    return overridden(subject, reason: reason, refusal: "the history database \(path) cannot be read", last: nil)
                }
            }
        }
        return try decide(subject, validations: validations, override: reason, location: location)
    }

    /// The decision on `validations` (history entries, any order): the newest validation of the
    /// same robot, policy digest and manifest digest that is not a shard decides. Throws the
    /// refusal unless it is a GO under a randomization or `override` is given.
    public static func decide(_ subject: Subject, validations: [History.Entry], override: String?, location: String = "history") throws -> DeploymentClearance {
        let reason = try checkedReason(override)
        let ordered = validations.filter { $0.kind == .validation && $0.robot == subject.robot && $0.decision != "PARTIAL" }
            .sorted { ($0.createdAt, $0.id ?? 0) < ($1.createdAt, $1.id ?? 0) }
        let matching = ordered.filter { $0.policyDigest == subject.policyDigest && $0.manifestDigest == subject.manifestDigest }
        guard let last = matching.last else {
            let why = "it was never validated under this manifest" + notes(subject, others: ordered)
            guard let reason else {
                throw TetherError("\(subject.naming): \(why)", at: location,
                                  hint: "validate it: " + validateCommand(subject,
                                                                          randomization: nil) + " (GO: the 95 % lower bound reaches the threshold), then "
                                                                              + "run this again; or run anyway with --override \"reason\" (recorded with "
                                                                                  + "the run)")
            }
            return overridden(subject, reason: reason, refusal: "never validated under this manifest", last: nil)
        }
        let reference = validation(last)
        if last.decision != "GO" {
            guard let reason else {
                throw TetherError("\(subject.naming): its last validation (\(reference.sentence)) says \(last.decision ?? "no decision")", at: location,
                                  hint: "improve the policy (tether improve) and validate the result: " + validateCommand(subject,
                                      randomization: last.randomization)
                                  + "; or run anyway with --override \"reason\" (recorded with the run)")
            }
            return overridden(subject, reason: reason, refusal: "its last validation (\(reference.sentence)) says \(last.decision ?? "no decision")",
                              last: reference)
        }
        if last.randomizationDigest == nil {
            guard let reason else {
                throw TetherError("\(subject.naming): its last validation (\(reference.sentence)) ran on the nominal model only; the gate counts the "
                    + "success rate under a randomization (the robot as measured, with its uncertainty)",
                                  at: location, hint: "validate under the randomization `tether calibrate` wrote (or robots/NAME/randomization.yaml): "
                                  + validateCommand(subject, randomization: nil) + "; or run anyway with --override \"reason\" (recorded with the run)")
            }
            return overridden(subject, reason: reason, refusal: "its last validation (\(reference.sentence)) ran on the nominal model only", last: reference)
        }
        return DeploymentClearance(status: .cleared, robot: subject.robot, policy: subject.policy, policyDigest: subject.policyDigest,
                                   manifest: subject.manifest, manifestDigest: subject.manifestDigest, backend: subject.backend, validation: reference)
    }

    /// The override reason, trimmed; nil when none was given; throws for a blank one.
    static func checkedReason(_ override: String?) throws -> String? {
        guard let override else { return nil }
        let reason = override.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else {
            throw TetherError("an override of the deployment gate needs a reason", at: "--override",
                              hint: "say why the policy runs without a GO validation, e.g. --override \"bench test, robot on the gantry\"; it is recorded "
                                  + "with the run")
        }
        return reason
    }

    static func overridden(_ subject: Subject, reason: String, refusal: String, last: DeploymentClearance.Validation?) -> DeploymentClearance {
        DeploymentClearance(status: .overridden, robot: subject.robot, policy: subject.policy, policyDigest: subject.policyDigest,
                            manifest: subject.manifest, manifestDigest: subject.manifestDigest, backend: subject.backend,
                            validation: last, refusal: refusal, overrideReason: reason)
    }

    /// A history row as the clearance's reference to it.
    public static func validation(_ e: History.Entry) -> DeploymentClearance.Validation {
        DeploymentClearance.Validation(id: e.id, date: DeploymentClearance.Validation.iso8601(e.createdAt), trials: e.trials ?? 0,
                                       successes: e.successes ?? 0, lower: e.lower,
                                       threshold: e.threshold, decision: e.decision ?? "?", randomization: e.randomization, artifact: e.artifact)
    }

    /// The command that validates the subject.
    static func validateCommand(_ s: Subject, randomization: String?) -> String {
        "tether validate --robot \(s.robotArgument ?? s.manifest) --policy \(s.policy) --randomize "
            + "\(randomization ?? s.suggestedRandomization ?? "RANDOMIZATION.yaml") --trials 100"
    }

    /// Why other validations of this robot do not count, when some look related.
    static func notes(_ s: Subject, others: [History.Entry]) -> String {
        var notes: [String] = []
        let otherManifest = others.filter { $0.policyDigest == s.policyDigest && $0.manifestDigest != nil && $0.manifestDigest != s.manifestDigest }
        if let e = otherManifest.last {
            notes.append("\(otherManifest.count) validation(s) of these bytes ran under another manifest (\(e.manifest ?? "?"), \(e.manifestDigest ?? "?"))")
        }
        let noManifest = others.filter { $0.policyDigest == s.policyDigest && $0.manifestDigest == nil }
        if !noManifest.isEmpty {
            notes.append("\(noManifest.count) validation(s) of these bytes recorded no manifest digest")
        }
        let samePath = others.filter { $0.policy == s.policy && $0.policyDigest != s.policyDigest }
        if let e = samePath.last {
            notes.append(e.policyDigest == nil
                         ? "\(samePath.count) validation(s) of \(s.policy) were recorded before Tether kept policy digests"
                         : "\(samePath.count) validation(s) of \(s.policy) were of other bytes (\(e.policyDigest ?? "?")): the file changed since")
        }
        return notes.isEmpty ? "" : " (" + notes.joined(separator: "; ") + ": they do not count)"
    }
}

extension History.Entry {
    /// The history row of a deployment on a robot: how it got through the gate.
    public static func deployment(_ c: DeploymentClearance, artifact: String?, command: String?) -> History.Entry {
        History.Entry(kind: .deployment, robot: c.robot, policy: c.policy, backend: c.backend.rawValue, decision: c.status.rawValue,
                      summary: c.sentence, artifact: artifact, command: command, policyDigest: c.policyDigest, manifest: c.manifest,
                      manifestDigest: c.manifestDigest, overrideReason: c.overrideReason,
                      clearedBy: c.status == .cleared ? c.validation?.id : nil)
    }
}
