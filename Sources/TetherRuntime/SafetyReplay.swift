import Foundation
import TetherCore
import TetherPolicy
import TetherROS
import TetherSafety

/// Runs recorded ticks through a safety configuration offline and reports the commands and
/// events it would have produced: to check a log, or a new limit, without a robot.
///
/// Input: a flight recording (MCAP: one tick per action or command log time, with the latest
/// joint state and IMU received by then; see `mcapInputs`)
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
        try inputs(path: path, manifest: manifest, replacingActions: nil)
    }

    /// The recording's inputs with the actions a policy computes from the recorded observations
    /// instead of the recorded actions (`PolicyReplay`: a recurrent policy's state is reset where
    /// the recording's policy phases start): what the wrapper would have done with another
    /// policy, or a check that this one decided as recorded. Ticks the policy could not replay
    /// keep their recorded action.
    public static func inputs(path: String, manifest: Manifest, policy: inout some PolicyRuntime) throws -> [SafetyInput] {
        guard path.hasSuffix(".mcap") else {
            throw TetherError("re-running a policy needs a flight recording (.mcap) with its observations", at: path,
                              hint: "JSON Lines inputs carry actions, not observations")
        }
        let replayed = try PolicyReplay.replay(path: path, policy: &policy).actions
        return try inputs(path: path, manifest: manifest, replacingActions: replayed)
    }

    static func inputs(path: String, manifest: Manifest, replacingActions: [UInt64: [Float]]?) throws -> [SafetyInput] {
        if path.hasSuffix(".mcap") { return try mcapInputs(path: path, manifest: manifest, replacingActions: replacingActions) }
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

    /// The ticks of a flight recording. A tick is a log time that carries a `/tether/action` or
    /// a joint command (the recorder stamps both with the tick's time); its state is the latest
    /// joint state received at or before it (states are stamped with their receive time, and
    /// written once each), with the IMU message of the same stamp. Ticks without an action
    /// replay the recorded command as the runtime's own, not expecting the robot upright.
    /// Messages are put in log-time order first, so a recording whose log times are out of
    /// order (merged, or written by another tool) replays the same.
    static func mcapInputs(path: String, manifest: Manifest, replacingActions: [UInt64: [Float]]? = nil) throws -> [SafetyInput] {
        let reader = try MCAPReader(path: path)
        let topics = Set(reader.channels.values.map(\.topic))
        let known = topics.sorted().joined(separator: ", ")
        let statesTopic = manifest.ros2.jointStates, commandsTopic = manifest.ros2.jointCommands, actionsTopic = "/tether/action"
        guard topics.contains(statesTopic) else {
            throw TetherError("the recording has no \(statesTopic) topic: replay needs the robot's joint states", at: path,
                              hint: "topics: \(known.isEmpty ? "none" : known); replay a flight recording of this robot (tether deploy --record), or check "
                                  + "the manifest's ros2 topic names")
        }
        guard topics.contains(actionsTopic) || topics.contains(commandsTopic) else {
            throw TetherError("the recording has neither \(actionsTopic) nor \(commandsTopic): replay needs each tick's action or command", at: path,
                              hint: "topics: \(known); replay a flight recording made by tether (deploy --record), not a bag of states only")
        }
        /// Messages of a topic (none when absent) in log-time order; the first of equal log times is kept.
        func byTime<M: ROSMessage>(_ type: M.Type, _ topic: String) throws -> [(logTime: UInt64, message: M)] {
            guard topics.contains(topic) else { return [] }
            let list = try reader.messages(type, topic: topic)
            return list.indices.sorted { (list[$0].logTime, $0) < (list[$1].logTime, $1) }.map { list[$0] }
        }
        func firstByTime<M>(_ list: [(logTime: UInt64, message: M)]) -> [UInt64: M] {
            Dictionary(list.map { ($0.logTime, $0.message) }, uniquingKeysWith: { a, _ in a })
        }
        let joints = try byTime(SensorMsgs.JointState.self, statesTopic)
        let imu = firstByTime(try byTime(SensorMsgs.Imu.self, manifest.ros2.imu))
        let actions = firstByTime(try byTime(StdMsgs.Float64MultiArray.self, actionsTopic))
        let commands = firstByTime(try byTime(StdMsgs.Float64MultiArray.self, commandsTopic))
        let ticks = Set(actions.keys).union(commands.keys).sorted()
        guard let firstState = joints.first else {
            throw TetherError("the recording has no \(statesTopic) messages: replay needs the robot's joint states", at: path,
                              hint: "the recording may have been cut before its first complete chunk (`tether log info` says)")
        }
        guard let firstTick = ticks.first else {
            throw TetherError("the recording has no \(actionsTopic) or \(commandsTopic) messages: there is no tick to replay", at: path)
        }
        let names = manifest.joints.map(\.name)
        let n = names.count
        let origin = min(firstTick, firstState.logTime)
        func seconds(_ t: UInt64) -> Double { Double(t - origin) * 1e-9 }
        var next = 0
        var current: (logTime: UInt64, message: SensorMsgs.JointState)?
        var inputs: [SafetyInput] = []
        inputs.reserveCapacity(ticks.count)
        for tick in ticks {
            while next < joints.count, joints[next].logTime <= tick {
                current = joints[next]
                next += 1
            }
            var state: RobotState?
            var received = seconds(tick)
            if let logTime = current?.logTime, let m = current?.message {
                let at = "\(path) (\(statesTopic) at log time \(logTime) ns)"
                guard m.position.count == n, m.velocity.count == n else {
                    throw TetherError("a joint state has \(m.position.count) positions and \(m.velocity.count) velocities; the manifest has \(n) joints",
                                      at: at,
                                      hint: "replay with the manifest the recording was made with")
                }
                guard m.name.isEmpty || m.name == names else {
                    throw TetherError("the joint state names its joints \(m.name.joined(separator: ", ")), not the manifest's "
                        + "\(names.joined(separator: ", "))", at: at,
                                      hint: "replay with the manifest the recording was made with")
                }
                received = seconds(logTime)
                var s = RobotState(time: received, jointPositions: m.position, jointVelocities: m.velocity,
                                   jointTorques: m.effort.count == n ? m.effort : [Double](repeating: 0, count: n))
                if let i = imu[logTime] { s.apply(imu: i) }
                state = s
            }
            let action = replacingActions?[tick] ?? actions[tick].map { $0.data.map(Float.init) }
            let command = action == nil ? commands[tick].flatMap { JointCommand(multiArray: $0, joints: manifest.actionSize) } : nil
            inputs.append(SafetyInput(time: seconds(tick), state: state, stateReceivedAt: received, action: action, command: command,
                                      expectUpright: action != nil))
        }
        return inputs
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
