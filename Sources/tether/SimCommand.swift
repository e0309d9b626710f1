import ArgumentParser
import Foundation
import TetherCore
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

    func validate() throws {
        guard seconds > 0, seconds.isFinite else { throw ValidationError("--seconds must be a positive number, got \(seconds)") }
        guard push >= 0, push.isFinite else { throw ValidationError("--push must be a non-negative force in N, got \(push)") }
    }

    func run() throws {
        let robotModel = try report { try BuiltinRobots.load(robot) }
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
        print("tether sim: \(summary.robot) for \(fmt(summary.simulatedSeconds, 2)) s (\(summary.controlSteps) policy steps, \(summary.physicsSteps) physics steps, MuJoCo \(MuJoCo.version))")
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
}
