import Foundation
import TetherCore
import TetherPolicy
import TetherSim

/// A first deployment in torque stages, each with the task the chapter gives it, going on to the
/// next stage only when the one before passed:
///
/// | stage | task | passes when |
/// |---|---|---|
/// | 25 % | stand up and hold the pose, no policy: slow, safe movements; the sensors and the joint tracking are seen working | no fall, no safety stop |
/// | 50 % | the policy walks a short way ("if stable") | no fall, no safety stop, a quarter of the task's pro-rated distance covered |
/// | 100 % | the full task, in trials (full performance) | the trials' success rate is what the gap report compares |
///
/// Every stage runs through `TrialPlan` on the chosen backend (sim, the virtual robot, a ROS 2
/// robot) with the safety wrapper at the stage's torque fraction and, when a folder is given,
/// a flight recording per run.
public struct StagedDeployment: Sendable {
    /// One stage: torque fraction, what it runs, and the figures it gives.
    public struct Stage: Sendable, Codable, Equatable {
        public enum Task: String, Sendable, Codable {
            /// Stand up and hold, no policy.
            case standAndHold = "stand and hold"
            /// The policy walks a short way.
            case shortWalk = "short walk"
            /// The task, in trials.
            case fullTask = "full task"
        }
        /// The torque stage it runs at.
        public var torque: TorqueStage
        public var task: Task
        /// Runs (trials) and their length, s.
        public var runs: Int
        public var seconds: Double

        /// Fraction of the torque limits.
        public var fraction: Double { torque.fraction }

        public init(torque: TorqueStage, task: Task, runs: Int, seconds: Double) {
            self.torque = torque
            self.task = task
            self.runs = runs
            self.seconds = seconds
        }

        /// What the stage asks, in words.
        public var description: String {
            switch task {
            case .standAndHold: "stand up and hold for \(Int(seconds)) s (no policy)"
            case .shortWalk: "walk \(Int(seconds)) s (a quarter of the task's pace at least)"
            case .fullTask: "\(runs) trials of the task, \(Int(seconds)) s each"
            }
        }
    }

    /// What one stage did.
    public struct StageResult: Sendable, Codable {
        public var stage: Stage
        public var records: [TrialRecord]
        /// Whether the stage passed (for the last stage: every run ended without a safety stop or a fall).
        public var passed: Bool
        /// Why, in words.
        public var summary: String
    }

    /// The chapter's three stages; `trials` runs of `seconds` at 100 %.
    public static func chapter(trials: Int = 10, seconds: Double = 15) -> [Stage] {
        [Stage(torque: .quarter, task: .standAndHold, runs: 1, seconds: 8),
         Stage(torque: .half, task: .shortWalk, runs: 1, seconds: 10),
         Stage(torque: .full, task: .fullTask, runs: trials, seconds: seconds)]
    }

    public var stages: [Stage]
    /// Backend and truth, as for `TrialPlan`.
    public var backend: RobotBackend
    public var truth: String
    public var seed: UInt64
    /// Where the stages' recordings go (a subfolder per stage); nil: none.
    public var recordingFolder: String?
    /// How the policy got through the deployment gate (`DeploymentGate.clear`): written into
    /// every record and recording. Nil only in simulation.
    public var gate: DeploymentClearance?

    public init(stages: [Stage] = Self.chapter(), backend: RobotBackend, truth: String = "typical", seed: UInt64 = 1, recordingFolder: String? = nil) {
        self.stages = stages
        self.backend = backend
        self.truth = truth
        self.seed = seed
        self.recordingFolder = recordingFolder
    }

    /// Runs the stages in order, stopping after the first that does not pass.
    public func run(robot: RobotModel, policyName: String, makePolicy: () throws -> any PolicyRuntime,
                    progress: (StageResult) -> Void = { _ in }) throws -> [StageResult] {
        var results: [StageResult] = []
        for stage in stages {
            var plan = try TrialPlan(backend: backend, truth: truth, count: stage.runs, seconds: stage.seconds, seed: seed,
                                     recordingFolder: recordingFolder.map { "\($0)/stage-\(stage.torque.percent)" },
                                     stage: stage.torque)
            plan.holdOnly = stage.task == .standAndHold
            plan.gate = gate
            if stage.task == .shortWalk {
                plan.successDistance = max(0.05, 0.25 * plan.requiredDistance(task: robot.manifest.task))
            }
            let records = try plan.run(robot: robot, policyName: policyName, makePolicy: makePolicy)
            let tally = TrialTally(records)
            let passed: Bool, summary: String
            switch stage.task {
            case .standAndHold, .shortWalk:
                passed = tally.successes == tally.trials
                let r = records[0]
                summary = passed
                    ? (stage.task == .standAndHold ? "held the pose, no safety stop" : String(format: "walked %.2f m, no safety stop", r.distance))
                    : "\(r.failureMode)\(r.stopReason.map { " (\($0))" } ?? ""): the next stage is not run"
            case .fullTask:
                passed = !records.contains { $0.failureMode == "fall" || $0.stopReason != nil }
                summary = "\(tally.successes)/\(tally.trials) trials succeeded" + (passed ? "" : "; a fall or a safety stop")
            }
            let result = StageResult(stage: stage, records: records, passed: passed, summary: summary)
            results.append(result)
            progress(result)
            if !passed { break }
        }
        return results
    }
}
