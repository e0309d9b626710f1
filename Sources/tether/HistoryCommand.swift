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
            try report { () throws -> Void in throw TetherError("history recording is off "
                + "(TETHER_HISTORY=\(ProcessInfo.processInfo.environment["TETHER_HISTORY"] ?? ""))",
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

/// The history as this process's commands record it: `RunHistory` (TetherValidation) with the
/// command line and the manifest named by `--robot`.
enum HistoryHooks {
    static var commandLine: String { (["tether"] + CommandLine.arguments.dropFirst()).joined(separator: " ") }

    /// The recorder every command uses: the command line parsed and the manifest's digest read
    /// once, on the first record.
    static let recorder = RunHistory(command: commandLine, invokedManifest: invokedManifest()) {
        FileHandle.standardError.write(Data(($0 + "\n").utf8))
    }

    static func validation(_ r: GateResult, artifact: String?) { recorder.validation(r, artifact: artifact) }
    static func trials(_ records: [TrialRecord], robot: String, policy: String, backend: RobotBackend, truth: String?, artifact: String,
                       gate: DeploymentClearance? = nil) {
        recorder.trials(records, robot: robot, policy: policy, backend: backend, truth: truth, artifact: artifact, gate: gate)
    }
    static func deployment(_ gate: DeploymentClearance, artifact: String?) { recorder.deployment(gate, artifact: artifact) }
    static func calibration(_ file: CalibrationFile, artifact: String) { recorder.calibration(file, artifact: artifact) }
    static func improvement(_ c: ImprovementLoop.Comparison, robot: String, artifact: String) { recorder.improvement(c, robot: robot, artifact: artifact) }
    static func detection(robot: String, model: String, set: String, stats: [Double], images: Int, artifact: String?) {
        recorder.detection(robot: robot, model: model, set: set, stats: stats, images: images, artifact: artifact)
    }

    /// The manifest this process's command was given (`--robot`: a built-in name or a path) and
    /// the digest of its file, read back from the command line, for a gate result whose identity
    /// does not carry `manifestDigest`. nil for commands that name no manifest (a merge of shards).
    static func invokedManifest() -> RunHistory.ManifestFile? {
        guard let command = try? Tether.parseAsRoot(Array(CommandLine.arguments.dropFirst())) as? any NamesManifest,
              let path = try? BuiltinRobots.manifestPath(for: command.robot),
              let digest = try? FileDigest.fnv1a64(ofFile: path) else { return nil }
        return .init(path: path, digest: digest)
    }
}

/// A command whose `--robot` names the manifest its validations ran under (`HistoryHooks.invokedManifest`).
protocol NamesManifest {
    var robot: String { get }
}

extension Validate.RunGate: NamesManifest {}
extension Improve: NamesManifest {}
