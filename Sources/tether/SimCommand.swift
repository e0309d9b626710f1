import ArgumentParser
import Foundation
import TetherCore
import TetherPolicy
import TetherSim

struct Sim: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate a robot holding its default pose and print a summary.",
        discussion: """
        Runs a MuJoCo rollout at the policy rate with the PD law at the physics rate, holding the \
        manifest's default pose (the stand controller), optionally with pushes on the base.

        Examples:
          tether sim --robot quadruped --seconds 10
          tether sim --robot quadruped --seconds 5 --push 20 --json
          tether sim --robot cartpole --seconds 2
          tether sim --robot path/to/my_robot.yaml
          tether sim --robot cartpole --policy policies/cartpole.onnx --trials 200
          tether sim --robot quadruped --policy policies/quadruped.onnx --trials 100 --randomize robots/quadruped/randomization.yaml
        """
    )

    @Option(help: "Built-in robot name or manifest path.")
    var robot: String = "quadruped"

    @Option(help: "Simulated duration in seconds.")
    var seconds: Double = 10

    @Option(help: "Push the base sideways with this force (N) for 0.1 s once a second after t = 2 s.")
    var push: Double = 0

    @Flag(help: "Print the summary as JSON.")
    var json = false

    @Option(help: "ONNX policy: run trials of the manifest's task instead of holding the pose.")
    var policy: String?

    @Option(help: "Number of policy trials.")
    var trials = 20

    @Option(help: "Seed of the policy trials.")
    var seed: UInt64 = 1

    @Option(help: "Domain randomization spec for the policy trials.")
    var randomize: String?

    @Flag(help: "Run the policy even if its metadata contradicts the manifest (unsafe).")
    var allowMismatch = false

    func validate() throws {
        guard seconds > 0, seconds.isFinite else { throw ValidationError("--seconds must be a positive number, got \(seconds)") }
        guard push >= 0, push.isFinite else { throw ValidationError("--push must be a non-negative force in N, got \(push)") }
    }

    func run() throws {
        let robotModel = try report { try BuiltinRobots.load(robot) }
        if let policy { return try runPolicy(robotModel, policy) }
        var pushes: [HoldRollout.Push] = []
        if push > 0 {
            var t = 2.0, k = 0
            while t < seconds {
                let angle = Double(k) * 2.399963  // golden angle: directions spread around the circle
                pushes.append(.init(time: t, force: SIMD2(push * cos(angle), push * sin(angle)), duration: 0.1))
                t += 1; k += 1
            }
        }
        let sim = SimRobot(robot: robotModel)
        let summary = HoldRollout(seconds: seconds, pushes: pushes).run(sim)
        if json { try printJSON(summary); return }
        print("tether sim: \(summary.robot) for \(fmt(summary.simulatedSeconds, 2)) s (\(summary.controlSteps) policy steps, \(summary.physicsSteps) "
            + "physics steps, MuJoCo \(MuJoCo.version))")
        print("  wall time         \(fmt(summary.wallSeconds, 3)) s  (\(fmt(summary.realTimeFactor, 0))x real time)")
        print("  max joint dev.    \(fmt(summary.maxJointDeviation)) rad (\(summary.worstJoint))")
        print("  max |torque|      \(fmt(summary.maxTorque, 2)) N·m")
        if let z = summary.finalBaseHeight, let lo = summary.minBaseHeight, let hi = summary.maxBaseHeight {
            print("  base height       \(fmt(z)) m (after 1 s: \(fmt(lo)) … \(fmt(hi)) m)")
        }
        if let tilt = summary.maxTilt { print("  max tilt          \(fmt(Units.degrees(radians: tilt), 2))°") }
        if let feet = summary.feetInContact { print("  feet in contact   \(feet)") }
        if !pushes.isEmpty { print("  pushes            \(pushes.count) × \(fmt(push, 0)) N for 0.1 s") }
        if !summary.warnings.isEmpty { print("  MuJoCo warnings   \(summary.warnings)") }
        print("  held default pose \(summary.held ? "yes" : "NO")")
    }

    func runPolicy(_ robotModel: RobotModel, _ path: String) throws {
        guard trials > 0 else { throw ValidationError("--trials must be positive") }
        let manifest = robotModel.manifest
        let allow = allowMismatch
        _ = try report { try OnnxPolicy(path: path, manifest: manifest, allowMismatch: allow) }  // check once, up front
        let spec = try report { try randomize.map { try RandomizationSpec.load(path: $0) } }
        let plan = PolicyTrials(trials: trials, seed: seed, randomization: spec, noiseScale: spec == nil ? 0 : 1)
        let total = trials
        let quiet = json
        let summary = try report {
            try plan.run(robot: robotModel, policyName: path, progress: { done in
                if !quiet { FileHandle.standardError.write(Data("\r  trials \(done)/\(total)".utf8)) }
            }) { try OnnxPolicy(path: path, manifest: manifest, allowMismatch: allow) }
        }
        if !quiet { FileHandle.standardError.write(Data("\n".utf8)) }
        if json { try printJSON(summary); return }
        let task = manifest.task!
        print("tether sim: \(manifest.name), policy \(path), \(trials) trials (\(task.kind.rawValue), \(fmt(task.episodeSeconds, 0)) "
            + "s)\(spec.map { ", randomization \($0.sourcePath ?? "")" } ?? ", nominal")")
        print("  success          \(summary.successes)/\(summary.trials) = \(fmt(100 * summary.successRate, 1)) % (95 % CI "
            + "\(fmt(100 * summary.successInterval.lower, 1))–\(fmt(100 * summary.successInterval.upper, 1)) %)")
        print("  mean distance    \(fmt(summary.meanDistance, 2)) m")
        print("  mean length      \(fmt(summary.meanEpisodeSeconds, 2)) s")
        if task.kind == .walk {
            func mean(_ values: [Double?]) -> Double? {
                let v = values.compactMap { $0 }
                return v.isEmpty ? nil : v.reduce(0, +) / Double(v.count)
            }
            if let y = mean(summary.results.map(\.lateralDrift)) { print("  lateral drift    \(fmt(y, 2)) m (mean world y, end − start)") }
            if let h = mean(summary.results.map(\.headingChange)) { print("  heading change   \(fmt(Units.degrees(radians: h), 1))° (mean yaw, end − start)") }
            if let z = mean(summary.results.map(\.meanBaseHeight)) { print("  base height      \(fmt(z, 3)) m (mean over the episodes)") }
        }
        print("  mean return      \(fmt(summary.meanReturn, 2))")
        print("  outcomes         \(summary.outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
    }
}
