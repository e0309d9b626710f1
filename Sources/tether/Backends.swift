import Foundation
import TetherCore
import TetherEmulator
import TetherROS
import TetherRuntime
import TetherSim

/// The robot behind `--backend`: the in-process simulation (nominal), the virtual robot with a
/// hidden truth (in-process), or any robot on the manifest's ROS 2 topics. `hungAt`: hang a
/// simulated or virtual robot on a gantry at that base height (experiments); `gantry`: the
/// simulated robot starts hung at its standing height and is let go once it stands at its default
/// pose (humanoids, which cannot stand up from lying); otherwise it starts lying passive on the
/// ground, as a real one would.
/// `loopRateHz`: the controller's rate, when it differs from the manifest's: the virtual robot's
/// command timeout is then at least three of its periods.
func makeRobotBackend(_ backend: String, robot robotModel: RobotModel, truth: String, loopback: Bool, clock: ControlClock,
                      hungAt height: Double? = nil, loopRateHz: Double? = nil, gantry: Bool = false) throws -> Robot {
    switch backend {
    case "emulator":
        let timeout = loopRateHz.map { max(0.1, 3 / $0) }
        return try VirtualRobot(robot: robotModel, truth: try Truth.named(truth), clock: clock, hungAt: height, commandTimeout: timeout)
    case "ros2":
        let participant = try DDSParticipant(configuration: loopback ? DDSParticipant.loopbackConfiguration : nil)
        let remote = try ROS2Robot(manifest: robotModel.manifest, participant: participant, clock: clock)
        try remote.waitForRobot(timeout: 10)
        return remote
    default:
        let sim = SimRobot(robot: height == nil && !gantry ? robotModel : robotModel.with(model: robotModel.model.copy()))
        if let height { sim.hang(height: height) } else if gantry { sim.hangStanding() } else { sim.layDown() }
        let simulated = SimulatedRobot(sim: sim, start: clock.now())
        simulated.releaseWhenStanding = gantry && height == nil
        return simulated
    }
}
