/// Where a policy runs. The simulation (`sim`) is the simulated side of a sim-to-real gap; every
/// other backend is a robot (the virtual robot in-process, or a robot on ROS 2 topics), gated by
/// the deployment gate and compared with simulation in the gap report. Written as its raw value
/// (`"sim"`, `"emulator"`, `"ros2"`, `"unitree"`) in trial records, recordings and the history.
public enum RobotBackend: String, CaseIterable, Sendable, Codable, CustomStringConvertible {
    /// The in-process MuJoCo simulation of the manifest's model (nominal, or calibrated).
    case sim
    /// The virtual robot: MuJoCo with a hidden truth (actuators, sensors, link), in-process.
    case emulator
    /// A robot (real, or `tether emulate` in another process) on the manifest's ROS 2 topics.
    case ros2
    /// A Unitree robot (real, or `tether emulate --protocol unitree_go|unitree_hg`) over Unitree's
    /// low-level DDS protocol, as the manifest's `unitree:` section describes it.
    case unitree

    /// Whether this backend is simulation rather than a robot. Every robot is gated: a backend
    /// added later must say which it is here (the switch has no default on purpose).
    public var isSimulation: Bool {
        switch self {
        case .sim: true
        case .emulator, .ros2, .unitree: false
        }
    }

    /// Whether the robot runs inside this process (and so can run on a simulated clock, `--fast`).
    public var isInProcess: Bool {
        switch self {
        case .sim, .emulator: true
        case .ros2, .unitree: false
        }
    }

    public var description: String { rawValue }

    /// The choices as a user types them: "sim, emulator, ros2 or unitree".
    public static var choices: String {
        let names = allCases.map(\.rawValue)
        return names.dropLast().joined(separator: ", ") + " or " + names.last!
    }

    /// Parses a backend name; an unknown one is an error naming the choices.
    public init(parsing text: String, at field: String = "--backend") throws {
        guard let backend = RobotBackend(rawValue: text) else {
            throw TetherError("unknown backend \"\(text)\"", at: field,
                              hint: "use \(Self.choices): sim and emulator run in-process, ros2 talks to a robot on the manifest's topics, "
                                  + "unitree to a Unitree robot over its low-level protocol")
        }
        self = backend
    }
}
