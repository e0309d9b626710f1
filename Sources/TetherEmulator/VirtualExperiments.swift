import Foundation
import TetherCore
import TetherRuntime
import TetherSafety
import TetherSim

/// Runs `tether experiment` plans on the in-process virtual robot on a simulated clock, as fast as
/// the CPU allows: the demo's and the tests' way of getting recordings with a known, hidden truth.
public enum VirtualExperiments {
    /// Runs one experiment and records it to `path` (MCAP); hangs the robot when the plan needs it.
    @discardableResult
    public static func record(_ kind: ExperimentKind, options: ExperimentOptions = ExperimentOptions(), robot: RobotModel, truth: Truth,
                              path: String, stage: Double = 0.5) throws -> ExperimentRunner.Report {
        let plan = try ExperimentPlan(kind: kind, manifest: robot.manifest, options: options)
        let clock = ManualClock()
        let virtual = try VirtualRobot(robot: robot, truth: truth, clock: clock, hungAt: plan.hung ? options.hangHeight : nil)
        let recorder = FlightRecorder(manifest: robot.manifest, path: path, continuous: true, clockStart: clock.now(), metadata: plan.metadata)
        let safety = SafetyWrapper(config: try SafetyConfig(manifest: robot.manifest, stage: stage, options: SafetyOptions(manifestFilters: false)))
        return try ExperimentRunner.run(plan: plan, robot: virtual, safety: safety, clock: clock, recorder: recorder)
    }
}
