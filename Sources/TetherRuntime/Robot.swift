import TetherCore
import TetherSafety
import TetherSim

/// An input fault a robot backend found (a silent IMU, a malformed message, a lost e-stop
/// heartbeat): the deployment stops the robot with `reason` and ends the run with `error`.
public struct RobotFault: Error, CustomStringConvertible, Sendable {
    /// The safety reason the stop is recorded under.
    public var reason: SafetyReason
    /// What happened, where, what to do.
    public var error: TetherError
    /// Creates a fault.
    public init(_ reason: SafetyReason, _ error: TetherError) {
        self.reason = reason
        self.error = error
    }
    public var description: String { error.description }
}

/// The robot the runtime drives: an in-process simulation, the virtual robot, or a real robot
/// over ROS 2. Small on purpose: read the latest state, write a command.
public protocol Robot: AnyObject {
    /// The manifest (joint order, gains, limits) this robot speaks.
    var manifest: Manifest { get }
    /// The latest state, and when it was received on the runtime's clock; nil before the first.
    func latestState() throws -> (state: RobotState, receivedAt: Double)?
    /// Sends a command (actuated-joint order).
    func send(_ command: JointCommand) throws
    /// Lets the robot's time pass until `time` on the runtime's clock. Hardware and networked
    /// robots run on their own and ignore this; a simulation steps its physics here.
    func advance(to time: Double) throws
    /// Whether the robot's own e-stop input (for example its ROS 2 e-stop topic) is engaged.
    var eStopInputActive: Bool { get }
    /// Publishes the runtime's safety status where the robot offers a place for it.
    func publishStatus(level: UInt8, message: String, values: [String: String]) throws
    /// Sends a damping stop at once, from any thread (a second Ctrl-C, just before the process
    /// exits without finishing its loop). Must not block and must not touch state the control
    /// loop uses; robots in the same process stop with it and need nothing.
    func emergencyStop()
    /// How the backend fills in what the robot does not report (e.g. velocities by
    /// differencing), for the report; empty when nothing is.
    var inputNotes: [String] { get }
}

extension Robot {
    /// Robots without an e-stop input of their own.
    public var eStopInputActive: Bool { false }
    /// Robots without a status channel.
    public func publishStatus(level: UInt8, message: String, values: [String: String]) throws {}
    /// In-process robots end with the process.
    public func emergencyStop() {}
    /// Nothing filled in.
    public var inputNotes: [String] { [] }
}

/// `SimRobot` behind the `Robot` protocol: the simulation advances in lock step with the
/// runtime's clock, at the physics rate, applying the last command through its motor drivers.
/// The state reads through a `SensorModel` (default: exact sensors).
public final class SimulatedRobot: Robot {
    /// The simulation.
    public let sim: SimRobot
    /// The sensors between the simulation and what the runtime reads.
    public let sensors: SensorModel
    private var advancedTo: Double
    private let clockOffset: Double
    private var sensorState: SensorState
    private var sensorRandom: SeededRandom
    /// The last measured state and when it was received (sensors that are not exact).
    private var measured: (state: RobotState, receivedAt: Double)?
    /// Simulation time of the last sample taken or dropped, s.
    private var sampledAt: Double?

    /// Wraps `sim`; the simulation's time zero is the runtime clock's `start`. `sensors` corrupt
    /// each new state once (a state read twice reads the same), with draws from `sensorRandom`.
    public init(sim: SimRobot, start: Double, sensors: SensorModel = SensorModel(), sensorRandom: SeededRandom = SeededRandom(seed: 0)) {
        self.sim = sim
        self.sensors = sensors
        self.sensorRandom = sensorRandom
        sensorState = SensorState(joints: sim.robot.manifest.joints.count)
        clockOffset = start - sim.data.time
        advancedTo = start
    }

    public var manifest: Manifest { sim.robot.manifest }

    public func latestState() throws -> (state: RobotState, receivedAt: Double)? {
        // The state of the last advance, received at the time the runtime advanced to (exact,
        // unlike the simulation time plus an offset, which rounds).
        guard !sensors.isExact else { return (sim.state(), advancedTo) }
        let exact = sim.state()
        if let measured, exact.time == sampledAt {
            // This instant was sampled already: its measurement again, or the held one if it dropped out.
            return measured.state.time == exact.time ? (measured.state, advancedTo) : measured
        }
        if let sampledAt { sensors.walkDrift(over: exact.time - sampledAt, in: &sensorState, random: &sensorRandom) }
        sampledAt = exact.time
        // A dropped sample: the last one, received when it was, is read again.
        if let measured, sensors.dropsSample(random: &sensorRandom) { return measured }
        let new = (sensors.measure(exact, state: sensorState, random: &sensorRandom), advancedTo)
        measured = new
        return new
    }

    public func send(_ command: JointCommand) throws {
        try sim.apply(command)
        if releaseWhenStanding, sim.mount != nil, isStandingCommand(command) {
            sim.releaseGantry()
            releasedAt = sim.data.time
        }
    }

    /// With a gantry start (`SimRobot.hangStanding`): let go of the robot once it is commanded to
    /// its default pose (within 0.001 rad) with the manifest's full gains: the end of the
    /// stand-up, where an operator lowers a humanoid to the ground. (The joints themselves need
    /// not be there: a feed-forward meant for standing bends legs that hang in the air.)
    public var releaseWhenStanding = false
    /// Simulation time of the release, s.
    public private(set) var releasedAt: Double?

    private func isStandingCommand(_ command: JointCommand) -> Bool {
        let joints = sim.robot.manifest.actuatedJoints
        guard command.positions.count == joints.count else { return false }
        for (k, joint) in joints.enumerated() {
            guard abs(command.positions[k] - joint.defaultPosition) < 0.001, command.kp[k] >= 0.99 * (joint.kp ?? 0) else { return false }
        }
        return true
    }

    public var inputNotes: [String] {
        releasedAt.map { [String(format: "started hung on a gantry at the standing height; released at t = %.2f s, once standing at the default pose",
                                 $0)] } ?? []
    }

    public func advance(to time: Double) throws {
        let dt = sim.robot.model.timestep
        let steps = Int(((time - clockOffset - sim.data.time) / dt + 1e-6).rounded(.down))
        if steps > 0 { sim.stepPhysics(steps) }
        advancedTo = max(advancedTo, time)
    }
}
