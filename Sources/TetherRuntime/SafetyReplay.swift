import Foundation
import TetherCore
import TetherROS
import TetherSafety

/// Runs recorded ticks through a safety configuration offline and reports the commands and
/// events it would have produced: to check a log, or a new limit, without a robot.
///
/// Input: a flight recording (MCAP: joint states, IMU and `/tether/action`, matched by log time)
/// or JSON Lines, one tick per line (format in `docs/safety.md`, "Replay"):
///
///     {"time": 0.02, "action": [0.1, ...] | null, "lateness": 0.0, "expect_upright": true,
///      "state": {"joint_positions": [...], "joint_velocities": [...], "joint_torques": [...],
///                "base_orientation": [w, x, y, z], "base_angular_velocity": [x, y, z],
///                "base_position": [x, y, z]}}
///
/// `state` may be omitted (no new state that tick); the base fields are optional.
public enum SafetyReplay {
    /// One replayed tick.
    public struct Tick: Sendable, Codable {
        public var time: Double
        public var mode: String
        public var positions: [Double]
        public var torques: [Double]
        public var kp: [Double]
        public var kd: [Double]
        public var events: [String]
    }

    struct Line: Decodable {
        struct State: Decodable {
            var joint_positions: [Double]
            var joint_velocities: [Double]
            var joint_torques: [Double]?
            var base_orientation: [Double]?
            var base_angular_velocity: [Double]?
            var base_position: [Double]?
        }
        var time: Double
        var action: [Float]?
        var lateness: Double?
        var expect_upright: Bool?
        var state: State?
    }

    /// Reads the input (`.mcap` or JSON Lines) into safety inputs.
    public static func inputs(path: String, manifest: Manifest) throws -> [SafetyInput] {
        if path.hasSuffix(".mcap") { return try mcapInputs(path: path, manifest: manifest) }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw TetherError("cannot read the replay input: \(error.localizedDescription)", at: path)
        }
        var inputs: [SafetyInput] = []
        let n = manifest.joints.count
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            let parsed: Line
            do { parsed = try JSONDecoder().decode(Line.self, from: Data(line.utf8)) } catch {
                throw TetherError("line \(i + 1) is not a replay tick: \(error)", at: "\(path):\(i + 1)",
                                  hint: "each line is {\"time\": s, \"state\": {...}, \"action\": [...]} (docs/safety.md, Replay)")
            }
            var state: RobotState?
            if let s = parsed.state {
                guard s.joint_positions.count == n, s.joint_velocities.count == n else {
                    throw TetherError("line \(i + 1) has \(s.joint_positions.count) joint positions, the manifest \(n) joints", at: "\(path):\(i + 1)")
                }
                state = RobotState(time: parsed.time, jointPositions: s.joint_positions, jointVelocities: s.joint_velocities,
                                   jointTorques: s.joint_torques ?? .init(repeating: 0, count: n),
                                   baseOrientation: s.base_orientation.flatMap { $0.count == 4 ? SIMD4($0[0], $0[1], $0[2], $0[3]) : nil },
                                   baseAngularVelocity: s.base_angular_velocity.flatMap { $0.count == 3 ? SIMD3($0[0], $0[1], $0[2]) : nil },
                                   basePosition: s.base_position.flatMap { $0.count == 3 ? SIMD3($0[0], $0[1], $0[2]) : nil })
            }
            inputs.append(SafetyInput(time: parsed.time, state: state, stateReceivedAt: parsed.time, action: parsed.action,
                                      lateness: parsed.lateness ?? 0, expectUpright: parsed.expect_upright ?? true))
        }
        return inputs
    }

    static func mcapInputs(path: String, manifest: Manifest) throws -> [SafetyInput] {
        let reader = try MCAPReader(path: path)
        let joints = try reader.messages(SensorMsgs.JointState.self, topic: manifest.ros2.jointStates)
        let imu = Dictionary(try reader.messages(SensorMsgs.Imu.self, topic: manifest.ros2.imu).map { ($0.logTime, $0.message) },
                             uniquingKeysWith: { a, _ in a })
        let actions = Dictionary(try reader.messages(StdMsgs.Float64MultiArray.self, topic: "/tether/action").map { ($0.logTime, $0.message) },
                                 uniquingKeysWith: { a, _ in a })
        // Ticks without a policy action (passive, stand-up, stop) replay the recorded command as
        // the runtime's own command; those ticks did not expect the robot upright.
        let commands = Dictionary(try reader.messages(StdMsgs.Float64MultiArray.self, topic: manifest.ros2.jointCommands).map { ($0.logTime, $0.message) },
                                  uniquingKeysWith: { a, _ in a })
        let n = manifest.actionSize
        guard let first = joints.first else {
            throw TetherError("the recording has no \(manifest.ros2.jointStates) messages", at: path)
        }
        return joints.map { entry in
            let t = Double(entry.logTime - first.logTime) * 1e-9
            let m = entry.message
            var state = RobotState(time: t, jointPositions: m.position, jointVelocities: m.velocity, jointTorques: m.effort)
            if let i = imu[entry.logTime] { state.apply(imu: i) }
            let action = actions[entry.logTime].map { $0.data.map(Float.init) }
            let command = action == nil ? commands[entry.logTime].flatMap { JointCommand(multiArray: $0, joints: n) } : nil
            return SafetyInput(time: t, state: state, stateReceivedAt: t, action: action, command: command, expectUpright: action != nil)
        }
    }

    /// Replays `inputs` through a fresh wrapper.
    public static func run(_ inputs: [SafetyInput], config: SafetyConfig) -> [Tick] {
        var wrapper = SafetyWrapper(config: config)
        return inputs.map { input in
            let out = wrapper.tick(input)
            let mode: String
            switch out.mode {
            case .running: mode = "running"
            case .stopped(let reason, let behaviour): mode = "stopped(\(reason.rawValue), \(behaviour.rawValue))"
            }
            return Tick(time: input.time, mode: mode, positions: out.command.positions, torques: out.command.torques,
                        kp: out.command.kp, kd: out.command.kd, events: out.events.map { "\($0.reason.rawValue): \($0.message)" })
        }
    }
}
