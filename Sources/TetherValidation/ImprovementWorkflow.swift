import Foundation
import TetherCore
import TetherPolicy
import TetherSim

/// What `tether improve` does around the loop, as one library call: the robot's recorded failures
/// extracted and replayed (with `recordings`), the loop (`ImprovementRun.run`), its files written
/// into `outputDirectory`, and the history told.
///
/// Files: `before.json` / `.html` (the gate the policy failed), `failure-scenarios.yaml` (its
/// failures, replayable with `tether train --scenarios`), `improve.json` / `.html` (before / after,
/// checks, cost), `after.json` / `.html` (the chosen policy on fresh trials), `improved.onnx` with
/// its checkpoint, and with recordings `recorded-scenarios.yaml` / `.json`.
public struct ImprovementWorkflow: Sendable {
    /// The loop to run; its `outputDirectory` receives the files.
    public var run: ImprovementRun
    /// A trials folder of the deployed policy (`tether trials` on the virtual or real robot): its
    /// failures are extracted from the flight recordings and replayed in simulation; their states
    /// become training starts (in `run.startShare` of the directions).
    public var recordings: String?
    /// Seconds before each recorded failure to extract.
    public var window = 2.0
    /// Who keeps a record of the validations and the improvement (nil: nobody).
    public var history: RunHistory?

    public init(run: ImprovementRun, recordings: String? = nil, history: RunHistory? = nil) {
        self.run = run
        self.recordings = recordings
        self.history = history
    }

    /// What was produced.
    public struct Result: Sendable {
        public var outcome: ImprovementRun.Outcome
        public var summary: ImprovementReport
        /// The recorded failures, replayed (empty without recordings).
        public var recorded: [RecordedFailures.Scenario]
    }

    /// Replays the recordings (if any), runs the loop, writes the files, tells the history.
    public func perform(progress: @escaping ImprovementRun.Progress = { _ in }) throws -> Result {
        try createOutputDirectory()
        let out = run.outputDirectory
        var run = self.run
        var recorded: [RecordedFailures.Scenario] = []
        if let recordings {
            recorded = try replayRecorded(recordings, progress: progress)
            run.starts = run.startShare > 0 ? RecordedFailures.starts(recorded, manifest: run.robot.manifest) : []
        }
        try TrainingRun.refuseRecurrentWarmStart(run.policyPath)
        let outcome = try run.run(progress: progress)
        let gateSource = run.gate.sourcePath ?? "", trainingSource = (run.training ?? run.gate).sourcePath ?? ""
        let before = outcome.before
        try before.write(to: "\(out)/before.json")
        try before.htmlReport(generatedAt: Date()).write(to: "\(out)/before.html")
        history?.validation(before, artifact: "\(out)/before.json")
        let scenarios = ImprovementLoop.scenarios(from: before)
        try write(Data(ImprovementLoop.scenariosYAML(scenarios, policy: run.policyPath, randomization: gateSource).utf8), to: "\(out)/failure-scenarios.yaml")
        let summary = ImprovementReport(outcome: outcome, budget: run.budget, gateRandomization: gateSource, trainingRandomization: trainingSource)
        try write(try Self.encoder.encode(summary), to: "\(out)/improve.json")
        try summary.html(generatedAt: Date()).write(to: "\(out)/improve.html")
        if let after = outcome.after {
            try after.write(to: "\(out)/after.json")
            try after.htmlReport(generatedAt: Date()).write(to: "\(out)/after.html")
            history?.validation(after, artifact: "\(out)/after.json")
            history?.improvement(summary.comparison, robot: run.robot.manifest.name, artifact: "\(out)/improve.json")
        }
        return Result(outcome: outcome, summary: summary, recorded: recorded)
    }

    /// ⓪ The failures in the flight recordings of `folder` (`window` s before each), replayed in
    /// simulation under the gate's randomization; writes recorded-scenarios.yaml and .json.
    public func replayRecorded(_ folder: String, progress: ImprovementRun.Progress = { _ in }) throws -> [RecordedFailures.Scenario] {
        let robot = run.robot, manifest = robot.manifest, path = run.policyPath, out = run.outputDirectory
        try createOutputDirectory()
        progress("⓪ failures in the flight recordings of \(folder) (\(String(format: "%.1f", window)) s before each)")
        _ = try OnnxPolicy(path: path, manifest: manifest)
        let extracted = try RecordedFailures.extract(trials: folder, robot: robot, window: window)
        let replayed = try RecordedFailures.replay(extracted, robot: robot, makePolicy: { try OnnxPolicy(path: path, manifest: manifest) },
                                                   randomization: run.gate)
        for s in replayed {
            let interventions = s.interventions.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            progress(String(format: "  trial %3d  %@ at %.2f s  peak tilt %.2f rad, rate %.2f rad/s  %@", s.trial, s.failureMode, s.failureTime,
                            s.peakTilt, s.peakAngularRate, interventions.isEmpty ? "" : "interventions " + interventions))
            if let r = s.replay {
                progress("             replay: nominal \(r.nominalOutcome) after \(String(format: "%.2f", r.nominalSeconds)) s, "
                         + "randomized \(r.randomizedReproduced)/\(r.randomizedDraws) reproduce: \(r.verdict)")
            }
        }
        try write(Data(RecordedFailures.yaml(replayed, policy: path).utf8), to: "\(out)/recorded-scenarios.yaml")
        try write(try Self.encoder.encode(replayed), to: "\(out)/recorded-scenarios.json")
        progress("  \(replayed.count) recorded failure\(replayed.count == 1 ? "" : "s") → \(out)/recorded-scenarios.yaml, \(out)/recorded-scenarios.json")
        return replayed
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return encoder
    }

    private func createOutputDirectory() throws {
        do { try FileManager.default.createDirectory(atPath: run.outputDirectory, withIntermediateDirectories: true) } catch {
            throw TetherError("cannot create the output folder: \(error.localizedDescription)", at: run.outputDirectory)
        }
    }

    private func write(_ data: Data, to path: String) throws {
        do { try data.write(to: URL(fileURLWithPath: path)) } catch {
            throw TetherError("cannot write: \(error.localizedDescription)", at: path, hint: "check the folder exists and is writable")
        }
    }
}
