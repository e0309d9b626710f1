import Foundation
import TetherCore
import TetherEmulator
import TetherPolicy
import TetherROS
import TetherRuntime
import TetherSafety
import TetherSim

/// Deployment trials of a walking policy: each trial a robot taken through the full runtime
/// (stand-up → policy → stop, safety wrapper, flight recorder), measured and summarized as a
/// `TrialRecord`. In-process backends (`sim`, `emulator`) give each trial a fresh robot on a
/// simulated clock; `ros2` drives the robot on the manifest's topics in real time, trial after
/// trial, with `pauseSeconds` between them (a real robot is not reset by software: each trial
/// stands it up from wherever the previous one left it). Distance over ROS 2 comes from the
/// robot's odometry (nav_msgs/Odometry, e.g. a state estimator or motion capture; `tether
/// emulate` publishes its ground truth); without odometry the distance reads 0.
public struct TrialPlan: Sendable {
    /// Backend: `sim` (nominal MuJoCo), `emulator` (the virtual robot with a hidden truth), or
    /// `ros2` (any robot on the manifest's topics, in real time).
    public var backend: RobotBackend
    /// Emulator truth: a preset name (mild, typical, harsh) or a truth YAML path.
    public var truth: String
    /// Number of trials.
    public var count: Int
    /// Length of each trial, s (stand-up, policy, stop).
    public var seconds: Double
    /// Base seed; trial i's emulator truth seed derives from (seed, i).
    public var seed: UInt64
    /// Success distance, m (nil: the manifest task's, scaled to the policy time; see `requiredDistance`).
    public var successDistance: Double?
    /// Oscillation cutoff frequency, Hz.
    public var oscillationCutoffHz: Double
    /// Folder for the per-trial flight recordings (nil: none written).
    public var recordingFolder: String?
    /// Torque stage (nil: the manifest's `torque_stage`).
    public var stage: TorqueStage?
    /// Groups set back to nominal: with the emulator, truth groups (`GapAttribution.groups`:
    /// physics, actuators, sensors, link); with a calibrated simulation, calibrated groups
    /// (`CalibratedSimulation.groups`).
    public var nominalGroups: Set<String> = []
    /// Single members set back to nominal (a drill-down): truth members (`physics.payload`, see
    /// `GapAttribution.truthMembers(of:)`) or calibrated parameters (`joint[FR_calf_joint].damping`).
    public var nominalMembers: Set<String> = []
    /// What is set back to nominal, for the records: groups, then members.
    var nominalNames: String { (nominalGroups.sorted() + nominalMembers.sorted()).joined(separator: ", ") }
    /// sim: run in the calibrated simulation (calibrated model, driver and sensors) instead of
    /// the nominal one.
    public var calibrated: CalibratedSimulation?
    /// When to stand up, s; stand-up duration, s.
    public var standUpAt = 0.5
    public var standUpSeconds = 2.0
    /// ros2: DDS on the loopback interface only (tests, one machine).
    public var loopback = false
    /// ros2: seconds between trials (to reposition the robot); the robot holds a damping stop.
    public var pauseSeconds = 3.0
    /// Sim backend: each trial starts hung on a gantry at the standing height and is let go at
    /// the end of the stand-up (`SimRobot.hangStanding`), for humanoids that cannot stand up
    /// from lying.
    public var gantry = false
    /// Stand up and hold the standing pose, with no policy (the first torque stage's task:
    /// slow, safe movements). Success: no fall and no safety stop.
    public var holdOnly = false
    /// How the policy got through the deployment gate (`DeploymentGate` in TetherHistory): written
    /// into every record and into each flight recording's metadata. The plan does not check it;
    /// the caller does, before running on a robot.
    public var gate: DeploymentClearance?

    /// Creates a plan.
    public init(backend: RobotBackend, truth: String = "typical", count: Int, seconds: Double = 15, seed: UInt64 = 1,
                successDistance: Double? = nil, oscillationCutoffHz: Double = 10, recordingFolder: String? = nil,
                stage: TorqueStage? = nil) throws {
        guard count > 0 else { throw TetherError("the number of trials must be positive, not \(count)", at: "--count") }
        guard seconds > 5 else { throw TetherError("a trial of \(seconds) s leaves no time for the policy", at: "--seconds",
                                                   hint: "give at least 6 s: stand-up takes 3 s and the stop 1.5 s") }
        if let d = successDistance, !(d > 0) { throw TetherError("the success distance must be positive, not \(d)", at: "--success-distance") }
        guard oscillationCutoffHz > 0 else { throw TetherError("the oscillation cutoff must be positive", at: "--oscillation-hz") }
        self.backend = backend
        self.truth = truth
        self.count = count
        self.seconds = seconds
        self.seed = seed
        self.successDistance = successDistance
        self.oscillationCutoffHz = oscillationCutoffHz
        self.recordingFolder = recordingFolder
        self.stage = stage
    }

    /// When the policy starts and stops, s.
    public var policyStart: Double { schedule.policyStart }
    public var policyStop: Double { schedule.policyStop }

    /// The deployment each trial runs: stand up, the policy (or hold, `holdOnly`), stop.
    public var schedule: DeploymentSchedule {
        DeploymentSchedule(seconds: seconds, standUpAt: standUpAt, standUpSeconds: standUpSeconds, holdOnly: holdOnly)
    }

    /// The distance the success criterion asks for: the given one, or the manifest task's
    /// `success_distance` scaled by policy time / `episode_seconds` (the same mean speed the task
    /// asks for, over a shorter run), capped at the task's distance.
    public func requiredDistance(task: Manifest.Task?) -> Double {
        if let successDistance { return successDistance }
        guard let task, task.successDistance > 0, task.episodeSeconds > 0 else { return 1 }
        return task.successDistance * min(1, (policyStop - policyStart) / task.episodeSeconds)
    }

    /// The seed of trial `trial`: the first draw of stream (seed, trial).
    public func trialSeed(_ trial: Int) -> UInt64 {
        var random = SeededRandom(seed: seed, stream: UInt64(trial))
        return random.next()
    }

    /// Runs the trials in order, calling `progress` after each; `makePolicy` gives each trial a fresh policy.
    public func run(robot: RobotModel, policyName: String, makePolicy: () throws -> any PolicyRuntime,
                    progress: (TrialRecord) -> Void = { _ in }) throws -> [TrialRecord] {
        if let folder = recordingFolder {
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                throw TetherError("cannot create the output folder: \(error.localizedDescription)", at: folder)
            }
        }
        var records: [TrialRecord] = []
        var remote: (robot: Robot, clock: MonotonicClock)?
        if !backend.isInProcess {
            // A robot on the network (ROS 2, Unitree's protocol): connected once, shared by the trials.
            let clock = MonotonicClock()
            remote = (try backend.makeRobot(robot, clock: clock, setup: .init(loopback: loopback)), clock)
        }
        for trial in 0..<count {
            if let remote, trial > 0, pauseSeconds > 0 { remote.clock.sleep(until: remote.clock.now() + pauseSeconds) }
            let record = try runOne(trial: trial, robot: robot, policyName: policyName, policy: try makePolicy(),
                                    remote: remote.map { ($0.robot, $0.clock) })
            progress(record)
            records.append(record)
        }
        return records
    }

    /// Runs one trial on a fresh robot.
    /// `remote`: the robot and clock of the `ros2` backend (shared by the trials).
    public func runOne(trial: Int, robot: RobotModel, policyName: String, policy: any PolicyRuntime,
                       remote: (Robot, ControlClock)? = nil) throws -> TrialRecord {
        let manifest = robot.manifest
        let clock: ControlClock = remote?.1 ?? ManualClock()
        let trialSeed = trialSeed(trial)
        let inner: Robot
        var truthName: String?
        if let (robot, _) = remote {
            inner = robot
        } else if !backend.isInProcess {
            throw TetherError("a \(backend) trial needs the robot: run the plan (TrialPlan.run) rather than one trial")
        } else if backend == .emulator {
            var t: Truth
            if Truth.presetNames.contains(truth) {
                t = try Truth.preset(truth, seed: trialSeed)
            } else {
                t = try Truth.load(path: truth)
                t.seed = trialSeed
            }
            t = try GapAttribution.settingNominal(members: nominalMembers, in: GapAttribution.settingNominal(nominalGroups, in: t))
            truthName = nominalNames.isEmpty ? truth : "\(truth) with \(nominalNames) nominal"
            inner = try VirtualRobot(robot: robot, truth: t, clock: clock)
        } else {
            // Trial-to-trial variation on the simulated robot: the lying pose moved by the task's
            // initial noise (from the trial's seed), as a real robot never lies exactly alike.
            let configuration = try calibrated?.configuration(robot: robot, nominal: nominalGroups, members: nominalMembers)
            let base = configuration?.robot ?? robot
            // (A gantry hangs the robot on its own copy of the model: `SimRobot.hangStanding`.)
            let sim = SimRobot(robot: base)
            if let configuration { sim.driver = configuration.driver }
            var random = SeededRandom(seed: trialSeed, stream: 11)
            if gantry {
                sim.hangStanding()
            } else {
                sim.layDown(jointNoise: manifest.task?.initialNoise ?? 0, random: &random)
            }
            // The calibrated sensors read each new state once, from the trial's seed.
            let simulated = SimulatedRobot(sim: sim, start: clock.now(), sensors: configuration?.sensors ?? SensorModel(),
                                           sensorRandom: SeededRandom(seed: trialSeed, stream: 23))
            simulated.releaseWhenStanding = gantry
            inner = simulated
            if let calibrated {
                truthName = nominalNames.isEmpty ? "calibrated (\(calibrated.source))"
                    : "calibrated (\(calibrated.source)) with \(nominalNames) nominal"
            }
        }
        let probe = TrialProbe(manifest: manifest, start: clock.now())
        let probed = ProbedRobot(inner: inner, probe: probe)
        let recordingPath = recordingFolder.map { ($0 as NSString).appendingPathComponent(String(format: "trial-%03d.mcap", trial)) }
        let recorder = recordingPath.map { FlightRecorder(manifest: manifest, path: $0, windowSeconds: 10, continuous: true, clockStart: clock.now(),
                                                          metadata: gate?.metadata ?? [:]) }
        let deployment = try Deployment(robot: probed, policy: ProbedPolicy(inner: policy, probe: probe), stage: stage, schedule: schedule,
                                        recorder: recorder, clock: clock)
        let report = try deployment.run(schedule)
        var record = TrialMetrics.record(trial: trial, report: report, probe: probe, manifest: manifest, policyName: policyName,
                backend: backend, truth: truthName, seed: trialSeed, requiredDistance: holdOnly ? 0 : requiredDistance(task: manifest.task),
                                         oscillationCutoffHz: oscillationCutoffHz, controlHz: manifest.rates.controlHz,
                                         stage: deployment.safety.config.startStage)
        if holdOnly && record.failureMode == FailureMode.noProgress.rawValue {
            // Holding still is the task: no distance to cover.
            record.failureMode = FailureMode.success.rawValue
            record.success = true
        }
        record.gate = gate
        return record
    }
}

/// What a trial observes tick by tick, beside the deployment's own report.
final class TrialProbe {
    let manifest: Manifest
    let start: Double
    /// Time of the latest state read, relative to the start, s.
    var now = 0.0
    var latest: RobotState?
    var torqueMargin: Double?
    var velocityMargin: Double?
    /// Per policy tick: time, raw action, base-frame forward velocity, base height.
    var actionTimes: [Double] = []
    var actions: [[Float]] = []
    var forwardVelocities: [Double] = []
    var minPolicyBaseHeight: Double?

    init(manifest: Manifest, start: Double) {
        self.manifest = manifest
        self.start = start
    }

    func observe(_ state: RobotState, at time: Double) {
        now = time - start
        latest = state
        for (index, joint) in manifest.joints.enumerated() where joint.actuator != nil {
            if index < state.jointTorques.count, let limit = joint.torqueLimit, limit > 0 {
                let m = 1 - abs(state.jointTorques[index]) / limit
                torqueMargin = min(torqueMargin ?? m, m)
            }
            if index < state.jointVelocities.count, joint.velocityLimit > 0 {
                let m = 1 - abs(state.jointVelocities[index]) / joint.velocityLimit
                velocityMargin = min(velocityMargin ?? m, m)
            }
        }
    }

    func observePolicy(action: [Float]) {
        actionTimes.append(now)
        actions.append(action)
        if let v = latest?.baseLinearVelocity { forwardVelocities.append(v.x) }
        if let z = latest?.basePosition?.z { minPolicyBaseHeight = min(minPolicyBaseHeight ?? z, z) }
    }
}

/// A robot that lets the probe see every state the runtime reads.
final class ProbedRobot: Robot {
    let inner: Robot
    let probe: TrialProbe
    init(inner: Robot, probe: TrialProbe) {
        self.inner = inner
        self.probe = probe
    }
    var manifest: Manifest { inner.manifest }
    func latestState() throws -> (state: RobotState, receivedAt: Double)? {
        let latest = try inner.latestState()
        if let latest { probe.observe(latest.state, at: latest.receivedAt) }
        return latest
    }
    func send(_ command: JointCommand) throws { try inner.send(command) }
    func advance(to time: Double) throws { try inner.advance(to: time) }
    var eStopInputActive: Bool { inner.eStopInputActive }
    func publishStatus(level: UInt8, message: String, values: [String: String]) throws {
        try inner.publishStatus(level: level, message: message, values: values)
    }
    func emergencyStop() { inner.emergencyStop() }
    var inputNotes: [String] { inner.inputNotes }
}

/// A policy that hands each action to the probe.
struct ProbedPolicy: PolicyRuntime {
    var inner: any PolicyRuntime
    let probe: TrialProbe
    var observationSize: Int { inner.observationSize }
    var actionSize: Int { inner.actionSize }
    mutating func act(_ observation: [Float]) throws -> [Float] {
        let action = try inner.act(observation)
        probe.observePolicy(action: action)
        return action
    }
    mutating func reset() { inner.reset() }
    var recurrentState: [Float] { inner.recurrentState }
    mutating func setRecurrentState(_ values: [Float]) throws { try inner.setRecurrentState(values) }
}

/// The metrics of one trial, from the deployment's report and what the probe saw.
public enum TrialMetrics {
    static func record(trial: Int, report: Deployment.Report, probe: TrialProbe, manifest: Manifest, policyName: String,
                       backend: RobotBackend, truth: String?, seed: UInt64, requiredDistance: Double,
                       oscillationCutoffHz: Double, controlHz: Double, stage: Double) -> TrialRecord {
        let distance = report.distance ?? 0
        let episode = probe.actionTimes.count > 0 ? (probe.actionTimes.last! - probe.actionTimes.first! + 1 / controlHz) : 0
        let fellLow = manifest.task.map { task in (probe.minPolicyBaseHeight ?? .infinity) < task.minBaseHeight } ?? false
        let failureMode: FailureMode
        if let reason = report.stopReason {
            failureMode = (reason == SafetyReason.tiltLimit.rawValue || reason == SafetyReason.fall.rawValue) ? .fall : .safetyStop(reason)
        } else if fellLow {
            failureMode = .fall
        } else if distance < requiredDistance {
            failureMode = .noProgress
        } else {
            failureMode = .success
        }
        let commanded = manifest.task?.command.x ?? 0
        let tracking = probe.forwardVelocities.isEmpty ? nil
            : probe.forwardVelocities.reduce(0) { $0 + abs($1 - commanded) } / Double(probe.forwardVelocities.count)
        return TrialRecord(trial: trial, robot: manifest.name, policy: policyName, backend: backend, truth: truth, seed: seed,
                           success: failureMode.isSuccess, failureMode: failureMode.rawValue, distance: distance,
                           requiredDistance: requiredDistance, episodeSeconds: episode, score: episode > 0 ? distance / episode : 0,
                           trackingError: tracking, torqueMargin: probe.torqueMargin, velocityMargin: probe.velocityMargin,
                           oscillation: highFrequencyShare(probe.actions, sampleHz: controlHz, cutoffHz: oscillationCutoffHz),
                           oscillationCutoffHz: oscillationCutoffHz,
                           interventions: report.safetyCounters.filter { $0.value > 0 }, stopReason: report.stopReason,
                           recording: report.recording, stage: stage)
    }

    /// The share of the actions' spectral power above `cutoffHz`: each action dimension's mean is
    /// removed, its discrete Fourier power summed per frequency bin over dimensions, and bins
    /// 1…N/2 split at the cutoff. nil with fewer than 8 actions or no variation at all.
    public static func highFrequencyShare(_ actions: [[Float]], sampleHz: Double, cutoffHz: Double) -> Double? {
        let n = actions.count
        guard n >= 8, let width = actions.first?.count, width > 0 else { return nil }
        var power = [Double](repeating: 0, count: n / 2 + 1)
        for j in 0..<width {
            let x = actions.map { j < $0.count ? Double($0[j]) : 0 }
            let m = x.reduce(0, +) / Double(n)
            for k in 1...(n / 2) {
                var re = 0.0, im = 0.0
                let w = 2 * Double.pi * Double(k) / Double(n)
                for (t, v) in x.enumerated() {
                    re += (v - m) * cos(w * Double(t))
                    im -= (v - m) * sin(w * Double(t))
                }
                power[k] += re * re + im * im
            }
        }
        let total = power[1...].reduce(0, +)
        guard total > 0 else { return nil }
        var high = 0.0
        for k in 1...(n / 2) where Double(k) * sampleHz / Double(n) > cutoffHz { high += power[k] }
        return high / total
    }
}
