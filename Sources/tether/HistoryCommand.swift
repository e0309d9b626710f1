import ArgumentParser
import Foundation
import TetherCalibration
import TetherCore
import TetherHistory
import TetherSim
import TetherValidation

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show how a robot's success rate moved across validations, trial series, calibrations and improvements.",
        discussion: """
        Every `tether validate` (unsharded, or merged), `tether trials`, `tether deploy` on a \
        robot, `tether calibrate` and `tether improve` appends one row to a local SQLite database: $TETHER_HISTORY when set \
        (TETHER_HISTORY=off records nothing), else .tether/history.sqlite under the current \
        directory. A database that cannot be written is a warning, never a failed command.

        Examples:
          tether history
          tether history --robot quadruped --kind validation --kind improvement
          tether history --html history.html --json > history.json
        """
    )

    @Option(help: "Database (default: $TETHER_HISTORY or .tether/history.sqlite).") var database: String?
    @Option(help: "Only this robot.") var robot: String?
    @Option(help: "Only these kinds: validation, trials, calibration, improvement, detection, deployment (repeatable).") var kind: [String] = []
    @Option(help: "Only policies whose path contains this.") var policy: String?
    @Option(help: "Only the most recent this many.") var last: Int?
    @Option(help: "Write an HTML page with the success rate over the runs.") var html: String?
    @Flag(help: "Print JSON instead of the table.") var json = false

    func validate() throws {
        for k in kind where History.Kind(rawValue: k) == nil {
            throw ValidationError("unknown kind '\(k)': use \(History.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let last, last <= 0 { throw ValidationError("--last must be positive") }
    }

    func run() throws {
        guard let path = database ?? History.defaultPath() else {
            try report { () throws -> Void in throw TetherError("history recording is off (TETHER_HISTORY=\(ProcessInfo.processInfo.environment["TETHER_HISTORY"] ?? ""))",
                                        hint: "pass --database PATH or unset TETHER_HISTORY") }
            return
        }
        guard FileManager.default.fileExists(atPath: path) else {
            try report { () throws -> Void in throw TetherError("no history database", at: path,
                                        hint: "run tether validate, trials, calibrate or improve in this folder first, or pass --database") }
            return
        }
        let query = History.Query(robot: robot, kinds: Set(kind.compactMap(History.Kind.init(rawValue:))), policy: policy, limit: last)
        let entries = try report { try History(path: path).entries(query) }
        if let html {
            try report { try HistoryReport.html(entries, database: path).write(to: html) }
        }
        if json {
            let data = try report { try HistoryReport.json(entries, database: path) }
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("history \(path): \(entries.count) run\(entries.count == 1 ? "" : "s")")
        if !entries.isEmpty { print(HistoryReport.table(entries)) }
        if let html { print("wrote \(html)") }
    }
}

/// One row per run, written at the end of the commands that produce results.
enum HistoryHooks {
    static var commandLine: String { (["tether"] + CommandLine.arguments.dropFirst()).joined(separator: " ") }

    static func warn(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }

    static func validation(_ r: GateResult, artifact: String?) {
        let s = r.summary
        let manifest = invokedManifest()
        let manifestDigest = r.identity.manifestDigest ?? manifest?.digest
        History.recordQuietly(History.Entry(
            kind: .validation, robot: r.identity.robot, policy: r.identity.policy,
            backend: r.identity.randomization.map { "randomized sim (\(($0 as NSString).lastPathComponent))" } ?? "nominal sim",
            trials: s.trials, successes: s.successes, rate: s.successRate, lower: s.clopperPearson.lower, upper: s.clopperPearson.upper,
            decision: s.decision.rawValue, summary: "\(r.identity.task); \(s.reason)",
            metrics: ["mean_distance_m": s.meanDistance, "mean_return": s.meanReturn, "wilson_lower": s.wilson.lower, "wilson_upper": s.wilson.upper],
            artifact: artifact, command: commandLine, policyDigest: r.identity.policyDigest,
            manifest: manifestDigest == nil ? nil : manifest?.path, manifestDigest: manifestDigest,
            randomization: r.identity.randomization, randomizationDigest: r.identity.randomizationDigest, threshold: r.identity.threshold), warn: warn)
    }

    /// The manifest this process's command was given (`--robot`: a built-in name or a path) and
    /// the digest of its file, read back from the command line, for a gate result whose identity
    /// does not carry `manifestDigest`. nil for commands that name no manifest (a merge of shards).
    static func invokedManifest() -> (path: String, digest: String)? {
        guard let command = try? Tether.parseAsRoot(Array(CommandLine.arguments.dropFirst())) as? any NamesManifest,
              let path = try? BuiltinRobots.manifestPath(for: command.robot),
              let digest = try? FileDigest.fnv1a64(ofFile: path) else { return nil }
        return (path, digest)
    }

    /// A trial series; `gate`: how it got through the deployment gate (robot backends).
    static func trials(_ records: [TrialRecord], robot: String, policy: String, backend: String, truth: String?, artifact: String,
                       gate: DeploymentClearance? = nil) {
        guard !records.isEmpty else { return }
        let tally = TrialTally(records)
        var metrics: [String: Double] = ["mean_distance_m": tally.meanDistance]
        let tracking = records.compactMap(\.trackingError)
        if !tracking.isEmpty { metrics["mean_tracking_error_m_per_s"] = tracking.reduce(0, +) / Double(tracking.count) }
        let failures = tally.failureModes
        History.recordQuietly(History.Entry(
            kind: .trials, robot: robot, policy: policy, backend: backend + (truth.map { " (truth \($0))" } ?? ""),
            trials: tally.trials, successes: tally.successes, rate: tally.rate, lower: tally.wilson.lower, upper: tally.wilson.upper,
            decision: gate?.status.rawValue,
            summary: (failures.isEmpty ? "no failures" : "failures: " + failures.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
                + (gate.map { "; \($0.sentence)" } ?? ""),
            metrics: metrics, artifact: artifact, command: commandLine, policyDigest: gate?.policyDigest, manifest: gate?.manifest,
            manifestDigest: gate?.manifestDigest, overrideReason: gate?.overrideReason,
            clearedBy: gate?.status == .cleared ? gate?.validation?.id : nil), warn: warn)
    }

    /// A deployment on a robot, recorded before it starts: how it got through the gate.
    static func deployment(_ gate: DeploymentClearance, artifact: String?) {
        History.recordQuietly(.deployment(gate, artifact: artifact, command: commandLine), warn: warn)
    }

    static func calibration(_ file: CalibrationFile, artifact: String) {
        let patched = file.parameters.filter(\.patched)
        var metrics: [String: Double] = ["parameters_patched": Double(patched.count), "warnings": Double(file.warnings.count)]
        var summary = "\(patched.count) of \(file.parameters.count) parameters patched from \(file.recordings.count) recordings"
        if let h = file.heldOut.first {
            metrics["held_out_error_nominal"] = h.nominal
            metrics["held_out_error_calibrated"] = h.calibrated
            summary += String(format: "; held-out error %.3g → %.3g", h.nominal, h.calibrated)
        }
        for p in patched where p.estimate.count == 1 { metrics[p.name] = p.estimate[0] }
        History.recordQuietly(History.Entry(
            kind: .calibration, robot: file.robot, backend: nil, decision: file.warnings.isEmpty ? "PASS" : "WARN",
            summary: summary, metrics: metrics, artifact: artifact, command: commandLine), warn: warn)
    }

    static func improvement(_ c: ImprovementLoop.Comparison, robot: String, artifact: String) {
        History.recordQuietly(History.Entry(
            kind: .improvement, robot: robot, policy: c.after.policy, backend: "randomized sim",
            trials: c.after.trials, successes: c.after.successes, rate: c.after.rate, lower: c.after.wilson.lower, upper: c.after.wilson.upper,
            decision: c.after.decision,
            summary: String(format: "%@ %d/%d (%@) → %d/%d (%@), %+.1f points, Fisher p = %.3g; %d of %d failure scenarios fixed",
                            (c.before.policy as NSString).lastPathComponent, c.before.successes, c.before.trials, c.before.decision,
                            c.after.successes, c.after.trials, c.after.decision, c.change, c.fisherP, c.scenariosFixed, c.scenariosTotal),
            metrics: ["before_rate": c.before.rate, "after_rate": c.after.rate, "change_points": c.change, "fisher_p": c.fisherP,
                      "scenarios_fixed": Double(c.scenariosFixed), "scenarios_total": Double(c.scenariosTotal)],
            artifact: artifact, command: commandLine), warn: warn)
    }

    /// A detector's score on one test set: rate = mAP@[.5:.95].
    static func detection(robot: String, model: String, set: String, stats: [Double], images: Int, artifact: String?) {
        guard stats.count == 12 else { return }
        History.recordQuietly(History.Entry(
            kind: .detection, robot: robot, policy: model, backend: set, trials: images, rate: max(0, stats[0]),
            summary: String(format: "mAP@[.5:.95] %.3f, AP50 %.3f, AR@100 %.3f on %d images (%@)", stats[0], stats[1], stats[8], images, set),
            metrics: ["mAP": stats[0], "AP50": stats[1], "AP75": stats[2], "AR100": stats[8]], artifact: artifact, command: commandLine), warn: warn)
    }
}

/// A command whose `--robot` names the manifest its validations ran under (`HistoryHooks.invokedManifest`).
protocol NamesManifest {
    var robot: String { get }
}

extension Validate.RunGate: NamesManifest {}
extension Improve: NamesManifest {}
