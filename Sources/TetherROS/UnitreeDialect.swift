import TetherCore

/// A low-level state as a backend reads it, the same for both of Unitree's message sets.
public struct UnitreeReading: Sendable, Equatable {
    /// One motor's measurement.
    public struct Motor: Sendable, Equatable {
        /// Position, rad.
        public var q: Double = 0
        /// Velocity, rad/s.
        public var dq: Double = 0
        /// Estimated torque, N·m.
        public var tau: Double = 0
        /// The hottest of the motor's temperature readings, °C.
        public var temperature: Double = 0
        /// Error and status bits (`unitree_hg` `motorstate`); 0 when healthy, and always 0 for
        /// `unitree_go`, whose public IDL carries no error word.
        public var error: UInt32 = 0
        /// A motor's measurement.
        public init(q: Double = 0, dq: Double = 0, tau: Double = 0, temperature: Double = 0, error: UInt32 = 0) {
            self.q = q; self.dq = dq; self.tau = tau; self.temperature = temperature; self.error = error
        }
    }
    /// The controller's counter (ms on the robots); it advances with every new state.
    public var tick: UInt32 = 0
    /// Every motor slot of the protocol, in slot order.
    public var motors: [Motor]
    /// Body orientation, w x y z.
    public var quaternion: SIMD4<Double> = SIMD4(1, 0, 0, 0)
    /// Angular velocity in the IMU frame, rad/s.
    public var gyroscope: SIMD3<Double> = .zero
    /// Specific force in the IMU frame, m/s².
    public var accelerometer: SIMD3<Double> = .zero
    /// Foot force sensors, raw counts (`unitree_go`; empty for `unitree_hg`).
    public var footForce: [Double] = []
    /// The wireless remote's 40-byte frame (`UnitreeRemote`).
    public var wirelessRemote: [UInt8] = Array(repeating: 0, count: 40)
    /// `unitree_hg` only: the robot variant the controller reports, echoed back in commands.
    public var modeMachine: UInt8 = 0

    /// A reading with `slots` zeroed motors.
    public init(slots: Int) { motors = Array(repeating: Motor(), count: slots) }
}

/// One motor's command, the same for both message sets.
public struct UnitreeMotorCommand: Sendable, Equatable {
    /// 1: enabled (servo), 0: off.
    public var mode: UInt8
    /// Target position, rad.
    public var q: Double
    /// Target velocity, rad/s.
    public var dq: Double
    /// Feed-forward torque, N·m.
    public var tau: Double
    /// Position gain, N·m/rad.
    public var kp: Double
    /// Velocity gain, N·m·s/rad.
    public var kd: Double
    /// A motor's command (default: off, every field zero).
    public init(mode: UInt8 = 0, q: Double = 0, dq: Double = 0, tau: Double = 0, kp: Double = 0, kd: Double = 0) {
        self.mode = mode; self.q = q; self.dq = dq; self.tau = tau; self.kp = kp; self.kd = kd
    }
    /// Every field zero: the motor off.
    public static let off = UnitreeMotorCommand()
}

/// One of Unitree's message sets, seen through `UnitreeReading` and `UnitreeMotorCommand`, so a
/// backend and a server are written once for both.
public protocol UnitreeDialect: Sendable {
    associatedtype Command: UnitreeCheckedMessage
    associatedtype State: UnitreeCheckedMessage
    /// Which protocol this is.
    static var kind: UnitreeProtocol { get }
    /// What a state says (every slot).
    static func reading(_ state: State) -> UnitreeReading
    /// A state saying `reading`, CRC sealed (the virtual robot's side).
    static func state(_ reading: UnitreeReading) -> State
    /// A command for every slot (missing slots: off), with the protocol's header fields, CRC sealed.
    static func command(_ motors: [UnitreeMotorCommand], modeMachine: UInt8) -> Command
    /// What a command asks of every slot (the virtual robot's side).
    static func motors(_ command: Command) -> [UnitreeMotorCommand]
}

private func float(_ v: Double) -> Float { Float(v) }

/// `unitree_go`: Go2, B2.
public enum UnitreeGoDialect: UnitreeDialect {
    public typealias Command = UnitreeGoMsgs.LowCmd
    public typealias State = UnitreeGoMsgs.LowState
    public static var kind: UnitreeProtocol { .go }

    public static func reading(_ s: State) -> UnitreeReading {
        var r = UnitreeReading(slots: 0)
        r.tick = s.tick
        r.motors = s.motorState.map { .init(q: Double($0.q), dq: Double($0.dq), tau: Double($0.tauEst), temperature: Double($0.temperature)) }
        r.quaternion = vector4(s.imuState.quaternion)
        r.gyroscope = vector3(s.imuState.gyroscope)
        r.accelerometer = vector3(s.imuState.accelerometer)
        r.footForce = s.footForce.map(Double.init)
        r.wirelessRemote = s.wirelessRemote
        return r
    }

    public static func state(_ r: UnitreeReading) -> State {
        var s = State()
        s.head = [0xFE, 0xEF]
        s.levelFlag = 0xFF
        s.tick = r.tick
        for (i, m) in r.motors.prefix(20).enumerated() {
            s.motorState[i].mode = 1
            s.motorState[i].q = float(m.q); s.motorState[i].dq = float(m.dq); s.motorState[i].tauEst = float(m.tau)
            s.motorState[i].temperature = UInt8(clamping: Int(m.temperature.rounded()))
        }
        s.imuState.quaternion = [r.quaternion[0], r.quaternion[1], r.quaternion[2], r.quaternion[3]].map(float)
        s.imuState.gyroscope = [r.gyroscope.x, r.gyroscope.y, r.gyroscope.z].map(float)
        s.imuState.accelerometer = [r.accelerometer.x, r.accelerometer.y, r.accelerometer.z].map(float)
        for (i, f) in r.footForce.prefix(4).enumerated() { s.footForce[i] = Int16(clamping: Int(f.rounded())) }
        s.wirelessRemote = r.wirelessRemote
        return s.sealed()
    }

    public static func command(_ motors: [UnitreeMotorCommand], modeMachine: UInt8) -> Command {
        var c = Command()
        c.head = [0xFE, 0xEF]
        c.levelFlag = 0xFF
        for (i, m) in motors.prefix(20).enumerated() {
            c.motorCmd[i].mode = m.mode
            c.motorCmd[i].q = float(m.q); c.motorCmd[i].dq = float(m.dq); c.motorCmd[i].tau = float(m.tau)
            c.motorCmd[i].kp = float(m.kp); c.motorCmd[i].kd = float(m.kd)
        }
        return c.sealed()
    }

    public static func motors(_ c: Command) -> [UnitreeMotorCommand] {
        c.motorCmd.map { .init(mode: $0.mode, q: Double($0.q), dq: Double($0.dq), tau: Double($0.tau), kp: Double($0.kp), kd: Double($0.kd)) }
    }
}

/// `unitree_hg`: G1, H1-2.
public enum UnitreeHGDialect: UnitreeDialect {
    public typealias Command = UnitreeHGMsgs.LowCmd
    public typealias State = UnitreeHGMsgs.LowState
    public static var kind: UnitreeProtocol { .hg }

    public static func reading(_ s: State) -> UnitreeReading {
        var r = UnitreeReading(slots: 0)
        r.tick = s.tick
        r.motors = s.motorState.map {
            .init(q: Double($0.q), dq: Double($0.dq), tau: Double($0.tauEst), temperature: Double($0.temperature.max() ?? 0), error: $0.motorstate)
        }
        r.quaternion = vector4(s.imuState.quaternion)
        r.gyroscope = vector3(s.imuState.gyroscope)
        r.accelerometer = vector3(s.imuState.accelerometer)
        r.wirelessRemote = s.wirelessRemote
        r.modeMachine = s.modeMachine
        return r
    }

    public static func state(_ r: UnitreeReading) -> State {
        var s = State()
        s.tick = r.tick
        s.modeMachine = r.modeMachine
        for (i, m) in r.motors.prefix(35).enumerated() {
            s.motorState[i].mode = 1
            s.motorState[i].q = float(m.q); s.motorState[i].dq = float(m.dq); s.motorState[i].tauEst = float(m.tau)
            let t = Int16(clamping: Int(m.temperature.rounded()))
            s.motorState[i].temperature = [t, t]
            s.motorState[i].motorstate = m.error
        }
        s.imuState.quaternion = [r.quaternion[0], r.quaternion[1], r.quaternion[2], r.quaternion[3]].map(float)
        s.imuState.gyroscope = [r.gyroscope.x, r.gyroscope.y, r.gyroscope.z].map(float)
        s.imuState.accelerometer = [r.accelerometer.x, r.accelerometer.y, r.accelerometer.z].map(float)
        s.wirelessRemote = r.wirelessRemote
        return s.sealed()
    }

    public static func command(_ motors: [UnitreeMotorCommand], modeMachine: UInt8) -> Command {
        var c = Command()
        c.modePR = 0   // ankles in pitch/roll: the joint convention the manifests use
        c.modeMachine = modeMachine
        for (i, m) in motors.prefix(35).enumerated() {
            c.motorCmd[i].mode = m.mode
            c.motorCmd[i].q = float(m.q); c.motorCmd[i].dq = float(m.dq); c.motorCmd[i].tau = float(m.tau)
            c.motorCmd[i].kp = float(m.kp); c.motorCmd[i].kd = float(m.kd)
        }
        return c.sealed()
    }

    public static func motors(_ c: Command) -> [UnitreeMotorCommand] {
        c.motorCmd.map { .init(mode: $0.mode, q: Double($0.q), dq: Double($0.dq), tau: Double($0.tau), kp: Double($0.kp), kd: Double($0.kd)) }
    }
}

private func vector4(_ v: [Float]) -> SIMD4<Double> {
    v.count >= 4 ? SIMD4(Double(v[0]), Double(v[1]), Double(v[2]), Double(v[3])) : SIMD4(1, 0, 0, 0)
}

private func vector3(_ v: [Float]) -> SIMD3<Double> {
    v.count >= 3 ? SIMD3(Double(v[0]), Double(v[1]), Double(v[2])) : .zero
}
