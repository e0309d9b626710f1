import Foundation
import TetherCore
import TetherROS
import TetherRuntime
import TetherSim

/// The one place a `RobotBackend` becomes a `Robot`, for every command and library workflow that
/// runs a policy or an experiment (`tether deploy`, `experiment`, `trials`, the demo).
extension RobotBackend {
    /// How to start the robot behind a backend.
    public struct Setup: Sendable {
        /// emulator: the truth, a preset name (mild, typical, harsh) or a truth YAML path.
        public var truth = "typical"
        /// ros2, unitree: keep DDS on the loopback interface (one machine, tests).
        public var loopback = false
        /// sim / emulator: hang the robot on a gantry at this base height, m (experiments).
        public var hungAt: Double?
        /// The controller's rate when it differs from the manifest's, Hz: the virtual robot's command
        /// timeout is then at least three of its periods.
        public var loopRateHz: Double?
        /// sim: start hung at the standing height and let go once standing at the default pose
        /// (humanoids, which cannot stand up from lying).
        public var gantry = false
        /// ros2, unitree: how long to wait for the robot's first state, s.
        public var waitSeconds = 10.0

        public init(truth: String = "typical", loopback: Bool = false, hungAt: Double? = nil, loopRateHz: Double? = nil,
                    gantry: Bool = false, waitSeconds: Double = 10) {
            self.truth = truth; self.loopback = loopback; self.hungAt = hungAt; self.loopRateHz = loopRateHz
            self.gantry = gantry; self.waitSeconds = waitSeconds
        }
    }

    /// The robot behind this backend: the in-process simulation (nominal), the virtual robot with
    /// a hidden truth (in-process), or any robot on the manifest's ROS 2 topics or Unitree's
    /// low-level protocol, waited for.
    /// Simulated robots start lying passive on the ground, as a real one would, unless hung
    /// (`hungAt`) or on the gantry (`gantry`).
    public func makeRobot(_ robot: RobotModel, clock: ControlClock, setup: Setup = Setup()) throws -> Robot {
        switch self {
        case .emulator:
            let timeout = setup.loopRateHz.map { max(0.1, 3 / $0) }
            return try VirtualRobot(robot: robot, truth: try Truth.named(setup.truth), clock: clock, hungAt: setup.hungAt,
                                    commandTimeout: timeout)
        case .ros2:
            return try Self.connectROS2(manifest: robot.manifest, loopback: setup.loopback, clock: clock, waitSeconds: setup.waitSeconds)
        case .unitree:
            return try UnitreeBackend.connect(manifest: robot.manifest, loopback: setup.loopback, clock: clock, waitSeconds: setup.waitSeconds)
        case .sim:
            let height = setup.hungAt
            let sim = SimRobot(robot: robot)  // a hung robot takes its own copy of the model (SimRobot.hang)
            if let height { sim.hang(height: height) } else if setup.gantry { sim.hangStanding() } else { sim.layDown() }
            let simulated = SimulatedRobot(sim: sim, start: clock.now())
            simulated.releaseWhenStanding = setup.gantry && height == nil
            return simulated
        }
    }

    /// A robot on the manifest's ROS 2 topics, once its first state has arrived.
    public static func connectROS2(manifest: Manifest, loopback: Bool, clock: ControlClock, waitSeconds: Double = 10) throws -> ROS2Robot {
        let participant = try DDSParticipant(configuration: loopback ? DDSParticipant.loopbackConfiguration : nil)
        let remote = try ROS2Robot(manifest: manifest, participant: participant, clock: clock)
        try remote.waitForRobot(timeout: waitSeconds)
        return remote
    }
}
