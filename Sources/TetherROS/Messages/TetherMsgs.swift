import TetherCore

/// `tether_msgs`: Tether's own messages.
public enum TetherMsgs {
    /// `tether_msgs/msg/SafetyEvent`: one event of the safety wrapper (a limit hit, a watchdog
    /// timeout, an e-stop, a non-finite action), recorded on `/tether/safety_events`.
    ///
    /// `keys` and `values` are parallel: the numbers behind the event in SI units and radians,
    /// e.g. `["value", "limit"]` and `[1.71, 1.57]` for a joint past its position limit.
    public struct SafetyEvent: ROSMessage, Hashable {
        public static let typeName = "tether_msgs/msg/SafetyEvent"
        public static let messageText = """
            # One event of Tether's safety wrapper: a limit hit, a watchdog timeout, an e-stop.
            # Software stops are controlled stops, not safety-rated functions.
            std_msgs/Header header
            # A stable snake_case code: joint_position_limit, joint_velocity_limit, torque_limit,
            # tilt_limit, watchdog_timeout, estop, non_finite_action, torque_stage, ...
            string reason
            # The same event in a sentence, for people.
            string message
            # The joint concerned; empty when the event is not about one joint.
            string joint
            # The numbers behind the event, pairwise with values (e.g. value, limit), SI units.
            string[] keys
            float64[] values

            """
        public static var dependencies: [any ROSMessage.Type] { [StdMsgs.Header.self] }

        public var header: StdMsgs.Header
        /// A stable snake_case code (see the definition).
        public var reason: String
        /// The event in a sentence.
        public var message: String
        /// The joint concerned, or "".
        public var joint: String
        /// Names of the numbers in `values`.
        public var keys: [String]
        /// The numbers, parallel to `keys`.
        public var values: [Double]

        /// An event; `keys` and `values` must have the same length.
        public init(header: StdMsgs.Header = .init(), reason: String, message: String = "", joint: String = "",
                    keys: [String] = [], values: [Double] = []) {
            precondition(keys.count == values.count, "SafetyEvent keys and values are parallel arrays")
            self.header = header
            self.reason = reason
            self.message = message
            self.joint = joint
            self.keys = keys
            self.values = values
        }

        /// The value recorded under `key`, if any.
        public func value(for key: String) -> Double? {
            guard let i = keys.firstIndex(of: key), i < values.count else { return nil }
            return values[i]
        }

        public func encode(to writer: inout CDRWriter) {
            writer.write(header)
            writer.write(reason)
            writer.write(message)
            writer.write(joint)
            writer.writeSequence(keys)
            writer.writeSequence(values)
        }

        public init(from reader: inout CDRReader) throws {
            header = try reader.read(StdMsgs.Header.self)
            reason = try reader.read(String.self)
            message = try reader.read(String.self)
            joint = try reader.read(String.self)
            keys = try reader.readSequence(of: String.self)
            values = try reader.readSequence(of: Double.self)
        }
    }

    /// A joint command for torque-controlled joints with on-board PD (Unitree-style motor
    /// drivers): `tau = kp (position - q) + kd (velocity - qd) + effort`, per named joint.
    public struct JointCommand: ROSMessage, Hashable {
        public static let typeName = "tether_msgs/msg/JointCommand"
        public static let messageText = """
        std_msgs/Header header
        string[] name       # joint names, in the order of the arrays below
        float64[] position  # target positions, rad (m for prismatic joints)
        float64[] velocity  # target velocities, rad/s
        float64[] effort    # feed-forward torques, N·m (N)
        float64[] kp        # proportional gains, N·m/rad
        float64[] kd        # derivative gains, N·m·s/rad
        """
        public static var dependencies: [any ROSMessage.Type] { [StdMsgs.Header.self] }

        public var header: StdMsgs.Header
        public var name: [String]
        public var position: [Double]
        public var velocity: [Double]
        public var effort: [Double]
        public var kp: [Double]
        public var kd: [Double]

        public init(header: StdMsgs.Header = .init(), name: [String], position: [Double], velocity: [Double],
                    effort: [Double], kp: [Double], kd: [Double]) {
            self.header = header
            self.name = name
            self.position = position
            self.velocity = velocity
            self.effort = effort
            self.kp = kp
            self.kd = kd
        }

        public func encode(to writer: inout CDRWriter) {
            writer.write(header)
            writer.writeSequence(name)
            writer.writeSequence(position)
            writer.writeSequence(velocity)
            writer.writeSequence(effort)
            writer.writeSequence(kp)
            writer.writeSequence(kd)
        }

        public init(from reader: inout CDRReader) throws {
            header = try reader.read(StdMsgs.Header.self)
            name = try reader.readSequence(of: String.self)
            position = try reader.readSequence(of: Double.self)
            velocity = try reader.readSequence(of: Double.self)
            effort = try reader.readSequence(of: Double.self)
            kp = try reader.readSequence(of: Double.self)
            kd = try reader.readSequence(of: Double.self)
        }
    }
}
