import ArgumentParser
import Foundation
import TetherCalibration
import TetherCore
import TetherSim

struct Calibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Identify the robot's parameters from recorded experiments; write the calibrated model, a calibration file, randomization ranges and a "
            + "report.",
        discussion: """
        Reads recordings of `tether experiment` (MCAP), ROS 2 bags recorded elsewhere or CSV \
        (docs/calibration.md), runs the analysis each experiment kind calls for — friction from \
        sweeps, driver lag and dead time from torque steps, link inertia from a pendulum swing, \
        sensor noise and Allan deviation from a stationary recording — and fits the model to \
        chirp trajectories. Every estimate comes with its 95 % interval.

        Writes into --out: calibration.yaml and .json (nominal, estimate, unit, interval, method \
        per parameter), the patched MJCF (and URDF when the robot has one) with only the changed \
        attributes touched, model.diff, randomization.yaml (ranges from the intervals) and \
        report.html.

        Examples:
          tether calibrate sweep.mcap torque-step.mcap pendulum.mcap stationary.mcap chirp.mcap --out calibration/
          tether calibrate chirp.mcap --held-out chirp2.mcap --robot quadruped --json
          tether calibrate standing.mcap --imu-topic /imu/data --out calibration/

        A ROS 2 bag recorded elsewhere without commands (the robot standing still) gives what \
        needs no input: IMU and encoder noise, bias and Allan deviation; the output says what \
        it skipped and why.
        """
    )

    @Argument(help: "Recordings (MCAP or CSV).") var recordings: [String]
    @Option(help: "Built-in robot name or manifest path.") var robot = "quadruped"
    @Option(help: "Recordings kept out of every fit (to compare the nominal and calibrated models).") var heldOut: [String] = []
    @Option(help: "Output directory.") var out = "calibration"
    @Option(help: "Randomization spec whose uncalibrated terms are kept (default: the robot's randomization.yaml if any).") var randomization: String?
    @Option(help: ArgumentHelp("Parameters of the trajectory fit, comma-separated (default: each excited joint's damping, frictionloss, armature; driver.lag, "
        + "driver.delay). Names: docs/trajectory-fitting.md.")) var fit: String?
    @Option(help: ArgumentHelp("Joint-state topic to read (default: the manifest's ros2.joint_states, else the bag's only sensor_msgs/msg/JointState "
        + "topic).")) var jointStatesTopic: String?
    @Option(help: "IMU topic to read (default: the manifest's ros2.imu, else the bag's only sensor_msgs/msg/Imu topic).") var imuTopic: String?
    @Flag(help: "Print the calibration as JSON.") var json = false

    func run() throws {
        let robotModel = try report { try BuiltinRobots.load(robot) }
        var base: RandomizationSpec?
        let defaultSpec = (robotModel.model.source as NSString).deletingLastPathComponent + "/randomization.yaml"
        if let path = randomization ?? (FileManager.default.fileExists(atPath: defaultSpec) ? defaultSpec : nil) {
            base = try report { try RandomizationSpec.load(path: path) }
        }
        var calibration = Calibration(robot: robotModel, baseRandomization: base)
        calibration.jointStatesTopic = jointStatesTopic
        calibration.imuTopic = imuTopic
        calibration.trajectoryFit = TrajectoryCalibration.step(names:
            fit.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } })
        let quiet = json
        let outcome = try report {
            try calibration.run(paths: recordings, heldOut: heldOut) { line in if !quiet { emit("  \(line)") } }
        }
        try report { try CalibrationOutput.write(outcome, robot: robotModel, to: out) }
        HistoryHooks.calibration(outcome.file, artifact: "\(out)/calibration.json")
        if json { print(try outcome.file.json()); return }
        print("calibration of \(outcome.file.robot) from \(recordings.count) recording\(recordings.count == 1 ? "" : "s"):")
        print(CalibrationOutput.table(outcome.file))
        if !outcome.file.heldOut.isEmpty {
            for h in outcome.file.heldOut { print("  held out \(h.recording): error nominal \(fmt(h.nominal, 4)) → calibrated \(fmt(h.calibrated, 4))") }
        }
        for n in outcome.file.notes { print("  note: \(n)") }
        for w in outcome.file.warnings { print("  warning: \(w)") }
        for k in outcome.file.skipped { print("  skipped: \(k)") }
        print("wrote \(out)/calibration.yaml, .json, "
            + "\(URL(fileURLWithPath: robotModel.model.source).lastPathComponent)\(outcome.urdf == nil ? "" : ", .urdf"), model.diff, randomization.yaml, "
                + "report.html")
    }
}
