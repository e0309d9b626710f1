import Foundation
import TetherCore
import TetherPolicy
import TetherROS
import TetherSim

/// Failure cases out of flight recordings: for each failed trial of `tether trials` (on the
/// virtual robot or a real one over ROS 2), the seconds before the failure — the measured state
/// they start from, what the policy was commanding, the disturbances the IMU felt and the safety
/// interventions — written as a scenario that simulation can replay.
///
/// Replaying it tells where the failure lives: if the nominal simulation, started from the
/// measured state with the same policy, fails the same way, the policy is at fault and training
/// on such states helps; if it does not, the difference is in the robot (the model, the
/// actuators, the torque stage, the safety wrapper) and calibration or the deployment settings
/// are the place to look. Under a randomization spec the replay is repeated over draws, giving the
/// share of plausible robots on which the failure recurs.
///
/// Decisions: a real robot does not measure where its base is, so replays start with the base
/// over the origin, its lowest collision geometry on the ground and zero linear velocity
/// (`SimRobot.place`); the failure instant is the first stopping safety event (fall detector,
/// tilt, velocity or position limit, non-finite values, stale state, e-stop), else the first IMU
/// sample past the manifest's tilt limit, else (too little progress) the last policy action; the
/// window is the
/// `window` seconds before it, clipped to the policy's start.
public enum RecordedFailures {
    /// One failure out of one recording.
    public struct Scenario: Sendable, Codable, Equatable {
        /// The flight recording.
        public var recording: String
        public var trial: Int
        public var failureMode: String
        /// Seconds from the policy's start to the failure instant, and to the window's start.
        public var failureTime: Double
        public var windowStart: Double
        /// The measured state at the window's start (what replays start from).
        public var start: EpisodeStart
        /// Largest tilt (rad), angular rate (rad/s) and specific-force deviation from g (m/s²) in the window.
        public var peakTilt: Double
        public var peakAngularRate: Double
        public var peakAccelerationDeviation: Double
        /// Mean absolute policy action in the window (the action's own units, order one).
        public var meanAbsAction: Double
        /// Safety interventions in the window, by reason.
        public var interventions: [String: Int]
        /// Replays in simulation (nil until replayed).
        public var replay: Replay?
    }

    /// The outcome of replaying a scenario.
    public struct Replay: Sendable, Codable, Equatable {
        /// Nominal model: the outcome ("fall", "timeout", …) and whether it matches the recording.
        public var nominalOutcome: String
        public var nominalSeconds: Double
        public var reproducedNominal: Bool
        /// Under the randomization (if any): draws replayed and how many reproduced the failure.
        public var randomizedDraws: Int
        public var randomizedReproduced: Int
        /// In words: where the failure lives.
        public var verdict: String
    }

    /// The failed trials of a `tether trials` folder (or a trials.jsonl), with their recordings.
    public static func extract(trials path: String, robot: RobotModel, window: Double = 2.0) throws -> [Scenario] {
        let file = path.hasSuffix(".jsonl") ? path : (path as NSString).appendingPathComponent("trials.jsonl")
        let folder = (file as NSString).deletingLastPathComponent
        let records = try TrialRecords.read(path: file)
        var out: [Scenario] = []
        for r in records where !r.success {
            guard let recording = r.recording else { continue }
            // Recorded paths are as the trials command saw them; fall back to the folder's copy.
            let candidates = [recording, (folder as NSString).appendingPathComponent((recording as NSString).lastPathComponent)]
            guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
                throw TetherError("the recording of failed trial \(r.trial) is missing", at: recording,
                                  hint: "keep the MCAP files beside trials.jsonl (tether trials writes them there)")
            }
            if let s = try scenario(recording: found, trial: r.trial, failureMode: r.failureMode, manifest: robot.manifest, window: window) {
                out.append(s)
            }
        }
        return out
    }

    /// The scenario of one recording, or nil when the policy never ran in it.
    public static func scenario(recording path: String, trial: Int, failureMode: String, manifest: Manifest, window: Double) throws -> Scenario? {
        let reader = try MCAPReader(path: path)
        let topics = manifest.ros2
        func seconds(_ t: UInt64) -> Double { Double(t) * 1e-9 }
        let actions = try reader.messages(StdMsgs.Float64MultiArray.self, topic: "/tether/action").map { (seconds($0.logTime), $0.message.data) }
        guard let policyStart = actions.first?.0, let lastAction = actions.last?.0 else { return nil }
        let states = try reader.messages(SensorMsgs.JointState.self, topic: topics.jointStates).map { (seconds($0.logTime), $0.message) }
        let imu = try reader.messages(SensorMsgs.Imu.self, topic: topics.imu).map { (seconds($0.logTime), $0.message) }
        let events = reader.info.topics.contains { $0.topic == "/tether/safety_events" }
            ? try reader.messages(TetherMsgs.SafetyEvent.self, topic: "/tether/safety_events").map { (seconds($0.logTime), $0.message) } : []
        guard !states.isEmpty else {
            throw TetherError("the recording has no joint states on \(topics.jointStates)", at: path,
                              hint: "record with tether trials or tether deploy --record")
        }
        func quaternion(_ m: SensorMsgs.Imu) -> SIMD4<Double> { SIMD4(m.orientation.w, m.orientation.x, m.orientation.y, m.orientation.z) }
        func tilt(_ q: SIMD4<Double>) -> Double {
            RobotState(time: 0, jointPositions: [], jointVelocities: [], jointTorques: [], baseOrientation: q).tilt ?? 0
        }
        let stopping: Set<String> = ["fall", "tilt_limit", "velocity_limit", "position_limit", "non_finite_state", "non_finite_action", "state_timeout",
                                     "estop"]
        let failure = events.first { $0.0 >= policyStart && stopping.contains($0.1.reason) }?.0
            ?? imu.first { $0.0 >= policyStart && tilt(quaternion($0.1)) > manifest.safety.tiltLimit }?.0 ?? lastAction
        let windowStart = max(policyStart, failure - window)
        // Joint order: by name, so a ROS 2 bag with another order reads right.
        let names = manifest.joints.map(\.name)
        guard let first = states.first(where: { $0.0 >= windowStart }) ?? states.last else { return nil }
        let index = try names.map { name -> Int in
            guard let i = first.1.name.firstIndex(of: name) else {
                throw TetherError("joint '\(name)' is not in the recording's joint states (\(first.1.name.joined(separator: ", ")))", at: path)
            }
            return i
        }
        let positions = index.map { first.1.position[$0] }
        let velocities = index.map { $0 < first.1.velocity.count ? first.1.velocity[$0] : 0 }
        let imuStart = imu.first { $0.0 >= windowStart } ?? imu.last
        let action = actions.last { $0.0 <= windowStart }?.1
        // A recurrent policy's memory at that moment (the state after the last call before it).
        let policyState = reader.info.topics.contains { $0.topic == "/tether/policy_state" }
            ? try reader.messages(StdMsgs.Float64MultiArray.self,
                                  topic: "/tether/policy_state").last { seconds($0.logTime) <= windowStart }?.message.data.map(Float.init)
            : nil
        let start = EpisodeStart(jointPositions: positions, jointVelocities: velocities,
                                 baseOrientation: imuStart.map { let q = quaternion($0.1); return [q[0], q[1], q[2], q[3]] },
                                 baseAngularVelocity: imuStart.map { [$0.1.angularVelocity.x, $0.1.angularVelocity.y, $0.1.angularVelocity.z] },
                                 policyTime: windowStart - policyStart, lastAction: action, policyState: policyState)
        let inWindow = imu.filter { $0.0 >= windowStart && $0.0 <= failure }
        let peakTilt = inWindow.map { tilt(quaternion($0.1)) }.max() ?? 0
        let peakRate = inWindow.map { m in let w = m.1.angularVelocity; return (w.x * w.x + w.y * w.y + w.z * w.z).squareRoot() }.max() ?? 0
        let peakAcc = inWindow.map { m in let a = m.1.linearAcceleration; return abs((a.x * a.x + a.y * a.y + a.z * a.z).squareRoot() - 9.81) }.max() ?? 0
        let windowActions = actions.filter { $0.0 >= windowStart && $0.0 <= failure }.flatMap(\.1)
        let meanAbs = windowActions.isEmpty ? 0 : windowActions.map(abs).reduce(0, +) / Double(windowActions.count)
        var interventions: [String: Int] = [:]
        for e in events where e.0 >= windowStart && e.0 <= failure + 0.05 { interventions[e.1.reason, default: 0] += 1 }
        return Scenario(recording: path, trial: trial, failureMode: failureMode, failureTime: failure - policyStart,
                        windowStart: windowStart - policyStart, start: start, peakTilt: peakTilt, peakAngularRate: peakRate,
                        peakAccelerationDeviation: peakAcc, meanAbsAction: meanAbs, interventions: interventions, replay: nil)
    }

    /// Replays each scenario from its measured state in the nominal simulation and, when a spec
    /// is given, over `draws` randomized models (deterministic from `seed`), for the window plus
    /// one second.
    public static func replay(_ scenarios: [Scenario], robot: RobotModel, makePolicy: @Sendable @escaping () throws -> any PolicyRuntime,
                              randomization: RandomizationSpec?, draws: Int = 16, seed: UInt64 = 1,
                              threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws -> [Scenario] {
        guard let baseTask = robot.manifest.task else {
            throw TetherError("the manifest declares no task to replay", at: robot.manifest.sourcePath)
        }
        return try scenarios.enumerated().map { number, s in
            var task = baseTask
            task.episodeSeconds = max(0.5, s.failureTime - s.windowStart + 1)
            var configured = EpisodeRunner(task: task, noiseScale: 0, pushes: nil)
            configured.start = s.start
            let runner = configured
            let fell = s.failureMode.contains("fall")
            let spec = randomization
            let count = 1 + (spec == nil ? 0 : max(0, draws))
            let results = try robot.rollouts(BatchRollout(trials: count, seed: seed, threads: threads)) { sim, _, i -> EpisodeResult in
                var random = SeededRandom(seed: seed &+ UInt64(number), stream: UInt64(i))
                let sample = i == 0 ? RandomizationSample.nominal : try spec!.sample(for: sim.robot, random: &random)
                try sample.apply(to: sim.robot.model)
                var policy = AnyPolicy(try makePolicy())
                return runner.run(sim: sim, policy: &policy, sample: sample, random: &random)
            }
            // A fall recurs as a fall; too little progress recurs as a fall or a mean speed under
            // the task's (its distance over its episode).
            let requiredSpeed = baseTask.successDistance / max(1e-9, baseTask.episodeSeconds)
            func reproduces(_ e: EpisodeResult) -> Bool {
                fell ? e.outcome == "fall" : (e.outcome == "fall" || e.outcome == "diverged" || e.meanSpeed < requiredSpeed)
            }
            let nominal = results[0]
            let randomized = results.dropFirst().filter(reproduces).count
            let verdict: String
            if reproduces(nominal) {
                verdict = "reproduced in the nominal simulation: the policy fails from this state; train on such states"
            } else if randomized > 0 {
                verdict = "not in the nominal model, but on \(randomized) of \(count - 1) randomized models: the robot differs from nominal within the "
                    + "calibrated ranges"
            } else {
                verdict = "not reproduced in simulation: the cause is outside the simulated model (torque stage, safety interventions, unmodelled actuator "
                    + "or contact effects)"
            }
            var out = s
            out.replay = Replay(nominalOutcome: nominal.outcome, nominalSeconds: nominal.seconds, reproducedNominal: reproduces(nominal),
                                randomizedDraws: count - 1, randomizedReproduced: randomized, verdict: verdict)
            return out
        }
    }

    /// Reads the recorded scenarios `tether improve --recordings` wrote (recorded-scenarios.json).
    public static func load(path: String) throws -> [Scenario] {
        guard path.hasSuffix(".json") else {
            throw TetherError("recorded scenarios are read from their JSON twin", at: path, hint: "pass recorded-scenarios.json (written beside the .yaml)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TetherError("no recorded scenarios at \(path)", at: path,
                              hint: "write them with `tether improve --recordings TRIALS_DIR --replay-only --out DIR` (DIR/recorded-scenarios.json)")
        }
        do { return try JSONDecoder().decode([Scenario].self, from: data) } catch {
            throw TetherError("not a recorded-scenarios file: \(TrialRecords.describe(error))", at: path,
                              hint: "pass the recorded-scenarios.json that `tether improve --recordings` wrote")
        }
    }

    /// The measured start states of the scenarios that fit `manifest` (joint counts, a 4-element
    /// orientation, a 3-element rate, a last action of the action size, finite values), for
    /// training; a hand-edited file's malformed states are left out, never half-used.
    /// A recorded recurrent state is dropped: training (ARS) runs feed-forward policies.
    public static func starts(_ scenarios: [Scenario], manifest: Manifest) -> [EpisodeStart] {
        scenarios.map { var s = $0.start; s.policyState = nil; return s }.filter { s in
            let values = s.jointPositions + s.jointVelocities + (s.baseOrientation ?? [])
                + (s.baseAngularVelocity ?? []) + (s.lastAction ?? []) + [s.policyTime]
            return s.jointPositions.count == manifest.joints.count && s.jointVelocities.count == manifest.joints.count
                && (s.baseOrientation?.count ?? 4) == 4 && (s.baseAngularVelocity?.count ?? 3) == 3
                && (s.lastAction?.count ?? manifest.actionSize) == manifest.actionSize && values.allSatisfy(\.isFinite)
        }
    }

    /// The scenarios as YAML (the failure-scenarios format with `kind: recorded` entries).
    public static func yaml(_ scenarios: [Scenario], policy: String) -> String {
        func list(_ v: [Double]) -> String { "[" + v.map { String(format: "%.6g", $0) }.joined(separator: ", ") + "]" }
        var lines = ["# Failure scenarios extracted from flight recordings of \(policy).",
                     "# Each starts at the measured state `window` seconds before the failure; replay with tether improve --recordings.",
                     "tether_scenarios: 1", scenarios.isEmpty ? "recorded: []" : "recorded:"]
        for s in scenarios {
            lines.append("  - recording: \"\(s.recording)\"")
            lines.append("    trial: \(s.trial)")
            lines.append("    failure: \(s.failureMode)")
            lines.append(String(format: "    failure_time: %.3f   # s after the policy started", s.failureTime))
            lines.append(String(format: "    window_start: %.3f", s.windowStart))
            lines.append("    start:")
            lines.append("      joint_positions: \(list(s.start.jointPositions))")
            lines.append("      joint_velocities: \(list(s.start.jointVelocities))")
            if let q = s.start.baseOrientation { lines.append("      base_orientation: \(list(q))   # w, x, y, z") }
            if let w = s.start.baseAngularVelocity { lines.append("      base_angular_velocity: \(list(w))") }
            lines.append(String(format: "      policy_time: %.3f", s.start.policyTime))
            lines.append(String(format: "    peak_tilt: %.4f\n    peak_angular_rate: %.4f\n    peak_acceleration_deviation: %.4f\n    mean_abs_action: %.4f",
                                s.peakTilt, s.peakAngularRate, s.peakAccelerationDeviation, s.meanAbsAction))
            lines.append(s.interventions.isEmpty ? "    interventions: {}" : "    interventions: "
                + "{" + s.interventions.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}")
            if let r = s.replay {
                lines.append("    replay: {nominal: \(r.nominalOutcome), reproduced_nominal: \(r.reproducedNominal), randomized: "
                    + "\"\(r.randomizedReproduced)/\(r.randomizedDraws)\"}")
                lines.append("    verdict: \"\(r.verdict)\"")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// A policy of any concrete type behind the generic `PolicyRuntime` interface.
struct AnyPolicy: PolicyRuntime {
    var base: any PolicyRuntime
    init(_ base: any PolicyRuntime) { self.base = base }
    var observationSize: Int { base.observationSize }
    var actionSize: Int { base.actionSize }
    mutating func act(_ observation: [Float]) throws -> [Float] { try base.act(observation) }
    mutating func reset() { base.reset() }
    var recurrentState: [Float] { base.recurrentState }
    mutating func setRecurrentState(_ values: [Float]) throws { try base.setRecurrentState(values) }
}
