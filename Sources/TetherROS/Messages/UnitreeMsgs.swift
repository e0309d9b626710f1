import TetherCore

// Unitree's low-level protocol: the messages a Go2 / B2 (`unitree_go`) and a G1 / H1-2
// (`unitree_hg`) exchange with their motor controllers over Cyclone DDS, on `rt/lowcmd` and
// `rt/lowstate`, with DDS type names `unitree_go::msg::dds_::LowCmd_` and so on. The field lists
// follow the vendor's public IDL (unitree_sdk2) and `.msg` files (unitree_ros2); fixed arrays keep
// their IDL length, so every message has one size on the wire. Units are the vendor's: radians,
// rad/s, N·m, and what each field's comment says where it is not SI.

/// `unitree_go`: the low-level messages of the Go2 and B2 quadrupeds.
public enum UnitreeGoMsgs {
    /// `unitree_go/msg/MotorCmd`: one motor's command (PD target and feed-forward torque).
    public struct MotorCmd: UnitreeStruct, Hashable {
        public static let typeName = "unitree_go/msg/MotorCmd"
        public static let messageText = """
            uint8 mode
            float32 q
            float32 dq
            float32 tau
            float32 kp
            float32 kd
            uint32[3] reserve

            """

        /// 1 to enable the motor (servo mode), 0 to leave it off.
        public var mode: UInt8
        /// Target position, rad.
        public var q: Float
        /// Target velocity, rad/s.
        public var dq: Float
        /// Feed-forward torque, N·m.
        public var tau: Float
        /// Position gain, N·m/rad.
        public var kp: Float
        /// Velocity gain, N·m·s/rad.
        public var kd: Float
        public var reserve: [UInt32]

        /// Every field zero (fixed arrays at their full length).
        public init() {
            mode = 0
            q = 0
            dq = 0
            tau = 0
            kp = 0
            kd = 0
            reserve = Array(repeating: 0, count: 3)
        }

        public func writeFields<W: UnitreeFieldWriter>(to writer: inout W) {
            writer.write(mode)
            writer.write(q)
            writer.write(dq)
            writer.write(tau)
            writer.write(kp)
            writer.write(kd)
            writer.writeArray(reserve, count: 3)
        }

        public init(from reader: inout CDRReader) throws {
            mode = try reader.read(UInt8.self)
            q = try reader.read(Float.self)
            dq = try reader.read(Float.self)
            tau = try reader.read(Float.self)
            kp = try reader.read(Float.self)
            kd = try reader.read(Float.self)
            reserve = try reader.readArray(of: UInt32.self, count: 3)
        }
    }

    /// `unitree_go/msg/MotorState`: one motor's measured state.
    public struct MotorState: UnitreeStruct, Hashable {
        public static let typeName = "unitree_go/msg/MotorState"
        public static let messageText = """
            uint8 mode
            float32 q
            float32 dq
            float32 ddq
            float32 tau_est
            float32 q_raw
            float32 dq_raw
            float32 ddq_raw
            uint8 temperature
            uint32 lost
            uint32[2] reserve

            """

        public var mode: UInt8
        /// Position, rad.
        public var q: Float
        /// Velocity, rad/s.
        public var dq: Float
        /// Acceleration, rad/s².
        public var ddq: Float
        /// Estimated torque, N·m.
        public var tauEst: Float
        public var qRaw: Float
        public var dqRaw: Float
        public var ddqRaw: Float
        /// Winding temperature, °C.
        public var temperature: UInt8
        /// Lost frames (a count).
        public var lost: UInt32
        public var reserve: [UInt32]

        /// Every field zero (fixed arrays at their full length).
        public init() {
            mode = 0
            q = 0
            dq = 0
            ddq = 0
            tauEst = 0
            qRaw = 0
            dqRaw = 0
            ddqRaw = 0
            temperature = 0
            lost = 0
            reserve = Array(repeating: 0, count: 2)
        }

        public func writeFields<W: UnitreeFieldWriter>(to writer: inout W) {
            writer.write(mode)
            writer.write(q)
            writer.write(dq)
            writer.write(ddq)
            writer.write(tauEst)
            writer.write(qRaw)
            writer.write(dqRaw)
            writer.write(ddqRaw)
            writer.write(temperature)
            writer.write(lost)
            writer.writeArray(reserve, count: 2)
        }

        public init(from reader: inout CDRReader) throws {
            mode = try reader.read(UInt8.self)
            q = try reader.read(Float.self)
            dq = try reader.read(Float.self)
            ddq = try reader.read(Float.self)
            tauEst = try reader.read(Float.self)
            qRaw = try reader.read(Float.self)
            dqRaw = try reader.read(Float.self)
            ddqRaw = try reader.read(Float.self)
            temperature = try reader.read(UInt8.self)
            lost = try reader.read(UInt32.self)
            reserve = try reader.readArray(of: UInt32.self, count: 2)
        }
    }

    /// `unitree_go/msg/IMUState`: the body IMU.
    public struct IMUState: UnitreeStruct, Hashable {
        public static let typeName = "unitree_go/msg/IMUState"
        public static let messageText = """
            float32[4] quaternion
            float32[3] gyroscope
            float32[3] accelerometer
            float32[3] rpy
            uint8 temperature

            """

        /// Orientation of the body in the world, w x y z.
        public var quaternion: [Float]
        /// Angular velocity in the IMU frame, rad/s.
        public var gyroscope: [Float]
        /// Specific force in the IMU frame, m/s².
        public var accelerometer: [Float]
        /// Roll, pitch, yaw, rad.
        public var rpy: [Float]
        /// °C.
        public var temperature: UInt8

        /// Every field zero (fixed arrays at their full length).
        public init() {
            quaternion = Array(repeating: 0, count: 4)
            gyroscope = Array(repeating: 0, count: 3)
            accelerometer = Array(repeating: 0, count: 3)
            rpy = Array(repeating: 0, count: 3)
            temperature = 0
        }

        public func writeFields<W: UnitreeFieldWriter>(to writer: inout W) {
            writer.writeArray(quaternion, count: 4)
            writer.writeArray(gyroscope, count: 3)
            writer.writeArray(accelerometer, count: 3)
            writer.writeArray(rpy, count: 3)
            writer.write(temperature)
        }

        public init(from reader: inout CDRReader) throws {
            quaternion = try reader.readArray(of: Float.self, count: 4)
            gyroscope = try reader.readArray(of: Float.self, count: 3)
            accelerometer = try reader.readArray(of: Float.self, count: 3)
            rpy = try reader.readArray(of: Float.self, count: 3)
            temperature = try reader.read(UInt8.self)
        }
    }

    /// `unitree_go/msg/BmsCmd`: battery management command.
    public struct BmsCmd: UnitreeStruct, Hashable {
        public static let typeName = "unitree_go/msg/BmsCmd"
        public static let messageText = """
            uint8 off
            uint8[3] reserve

            """
        public static var packedAlignment: Int { 1 }

        public var off: UInt8
        public var reserve: [UInt8]

        /// Every field zero (fixed arrays at their full length).
        public init() {
            off = 0
            reserve = Array(repeating: 0, count: 3)
        }

        public func writeFields<W: UnitreeFieldWriter>(to writer: inout W) {
            writer.write(off)
            writer.writeArray(reserve, count: 3)
        }

        public init(from reader: inout CDRReader) throws {
            off = try reader.read(UInt8.self)
            reserve = try reader.readArray(of: UInt8.self, count: 3)
        }
    }

    /// `unitree_go/msg/BmsState`: battery state.
    public struct BmsState: UnitreeStruct, Hashable {
        public static let typeName = "unitree_go/msg/BmsState"
        public static let messageText = """
            uint8 version_high
            uint8 version_low
            uint8 status
            uint8 soc
            int32 current
            uint16 cycle
            uint8[2] bq_ntc
            uint8[2] mcu_ntc
            uint16[15] cell_vol

            """

        public var versionHigh: UInt8
        public var versionLow: UInt8
        public var status: UInt8
        /// State of charge, %.
        public var soc: UInt8
        /// mA.
        public var current: Int32
        public var cycle: UInt16
        public var bqNTC: [UInt8]
        public var mcuNTC: [UInt8]
        /// Cell voltages, mV.
        public var cellVol: [UInt16]

        /// Every field zero (fixed arrays at their full length).
        public init() {
            versionHigh = 0
            versionLow = 0
            status = 0
            soc = 0
            current = 0
            cycle = 0
            bqNTC = Array(repeating: 0, count: 2)
            mcuNTC = Array(repeating: 0, count: 2)
            cellVol = Array(repeating: 0, count: 15)
        }

        public func writeFields<W: UnitreeFieldWriter>(to writer: inout W) {
            writer.write(versionHigh)
            writer.write(versionLow)
            writer.write(status)
            writer.write(soc)
            writer.write(current)
            writer.write(cycle)
            writer.writeArray(bqNTC, count: 2)
            writer.writeArray(mcuNTC, count: 2)
            writer.writeArray(cellVol, count: 15)
        }

        public init(from reader: inout CDRReader) throws {
            versionHigh = try reader.read(UInt8.self)
            versionLow = try reader.read(UInt8.self)
            status = try reader.read(UInt8.self)
            soc = try reader.read(UInt8.self)
            current = try reader.read(Int32.self)
            cycle = try reader.read(UInt16.self)
            bqNTC = try reader.readArray(of: UInt8.self, count: 2)
            mcuNTC = try reader.readArray(of: UInt8.self, count: 2)
            cellVol = try reader.readArray(of: UInt16.self, count: 15)
        }
    }

    /// `unitree_go/msg/LowCmd` on `rt/lowcmd`: a command for all 20 motor slots of a Go2 / B2.
    public struct LowCmd: UnitreeCheckedMessage, Hashable {
        public static let typeName = "unitree_go/msg/LowCmd"
        public static let messageText = """
            uint8[2] head
            uint8 level_flag
            uint8 frame_reserve
            uint32[2] sn
            uint32[2] version
            uint16 bandwidth
            unitree_go/MotorCmd[20] motor_cmd
            unitree_go/BmsCmd bms_cmd
            uint8[40] wireless_remote
            uint8[12] led
            uint8[2] fan
            uint8 gpio
            uint32 reserve
            uint32 crc

            """
        public static var dependencies: [any ROSMessage.Type] { [MotorCmd.self, BmsCmd.self] }

        /// Frame header: 0xFE 0xEF on Go2.
        public var head: [UInt8]
        /// 0xFF for low-level control.
        public var levelFlag: UInt8
        public var frameReserve: UInt8
        public var sn: [UInt32]
        public var version: [UInt32]
        public var bandwidth: UInt16
        public var motorCmd: [MotorCmd]
        public var bmsCmd: BmsCmd
        /// The wireless remote's raw frame (buttons and sticks).
        public var wirelessRemote: [UInt8]
        public var led: [UInt8]
        public var fan: [UInt8]
        public var gpio: UInt8
        public var reserve: UInt32
        /// `UnitreeCRC` of the packed message; set it with `sealCRC()` after every other change.
        public var crc: UInt32

        /// Every field zero (fixed arrays at their full length).
        public init() {
            head = Array(repeating: 0, count: 2)
            levelFlag = 0
            frameReserve = 0
            sn = Array(repeating: 0, count: 2)
            version = Array(repeating: 0, count: 2)
            bandwidth = 0
            motorCmd = Array(repeating: MotorCmd(), count: 20)
            bmsCmd = BmsCmd()
            wirelessRemote = Array(repeating: 0, count: 40)
            led = Array(repeating: 0, count: 12)
            fan = Array(repeating: 0, count: 2)
            gpio = 0
            reserve = 0
            crc = 0
        }

        public func writeFields<W: UnitreeFieldWriter>(to writer: inout W) {
            writer.writeArray(head, count: 2)
            writer.write(levelFlag)
            writer.write(frameReserve)
            writer.writeArray(sn, count: 2)
            writer.writeArray(version, count: 2)
            writer.write(bandwidth)
            writer.writeStructs(motorCmd, count: 20)
            writer.writeStruct(bmsCmd)
            writer.writeArray(wirelessRemote, count: 40)
            writer.writeArray(led, count: 12)
            writer.writeArray(fan, count: 2)
            writer.write(gpio)
            writer.write(reserve)
            writer.write(crc)
        }

        public init(from reader: inout CDRReader) throws {
            head = try reader.readArray(of: UInt8.self, count: 2)
            levelFlag = try reader.read(UInt8.self)
            frameReserve = try reader.read(UInt8.self)
            sn = try reader.readArray(of: UInt32.self, count: 2)
            version = try reader.readArray(of: UInt32.self, count: 2)
            bandwidth = try reader.read(UInt16.self)
            motorCmd = try reader.readArray(of: MotorCmd.self, count: 20)
            bmsCmd = try reader.read(BmsCmd.self)
            wirelessRemote = try reader.readArray(of: UInt8.self, count: 40)
            led = try reader.readArray(of: UInt8.self, count: 12)
            fan = try reader.readArray(of: UInt8.self, count: 2)
            gpio = try reader.read(UInt8.self)
            reserve = try reader.read(UInt32.self)
            crc = try reader.read(UInt32.self)
        }
    }

    /// `unitree_go/msg/LowState` on `rt/lowstate`: the whole low-level state of a Go2 / B2.
    public struct LowState: UnitreeCheckedMessage, Hashable {
        public static let typeName = "unitree_go/msg/LowState"
        public static let messageText = """
            uint8[2] head
            uint8 level_flag
            uint8 frame_reserve
            uint32[2] sn
            uint32[2] version
            uint16 bandwidth
            unitree_go/IMUState imu_state
            unitree_go/MotorState[20] motor_state
            unitree_go/BmsState bms_state
            int16[4] foot_force
            int16[4] foot_force_est
            uint32 tick
            uint8[40] wireless_remote
            uint8 bit_flag
            float32 adc_reel
            uint8 temperature_ntc1
            uint8 temperature_ntc2
            float32 power_v
            float32 power_a
            uint16[4] fan_frequency
            uint32 reserve
            uint32 crc

            """
        public static var dependencies: [any ROSMessage.Type] { [IMUState.self, MotorState.self, BmsState.self] }

        public var head: [UInt8]
        /// 0xFF for low-level control.
        public var levelFlag: UInt8
        public var frameReserve: UInt8
        public var sn: [UInt32]
        public var version: [UInt32]
        public var bandwidth: UInt16
        public var imuState: IMUState
        public var motorState: [MotorState]
        public var bmsState: BmsState
        /// Foot contact force sensors, raw counts.
        public var footForce: [Int16]
        public var footForceEst: [Int16]
        /// The controller's counter, ms; it advances with every state.
        public var tick: UInt32
        /// The wireless remote's raw frame (buttons and sticks).
        public var wirelessRemote: [UInt8]
        public var bitFlag: UInt8
        public var adcReel: Float
        public var temperatureNTC1: UInt8
        public var temperatureNTC2: UInt8
        public var powerV: Float
        public var powerA: Float
        public var fanFrequency: [UInt16]
        public var reserve: UInt32
        /// `UnitreeCRC` of the packed message (`sealCRC()`, `hasValidCRC`).
        public var crc: UInt32

        /// Every field zero (fixed arrays at their full length).
        public init() {
            head = Array(repeating: 0, count: 2)
            levelFlag = 0
            frameReserve = 0
            sn = Array(repeating: 0, count: 2)
            version = Array(repeating: 0, count: 2)
            bandwidth = 0
            imuState = IMUState()
            motorState = Array(repeating: MotorState(), count: 20)
            bmsState = BmsState()
            footForce = Array(repeating: 0, count: 4)
            footForceEst = Array(repeating: 0, count: 4)
            tick = 0
            wirelessRemote = Array(repeating: 0, count: 40)
            bitFlag = 0
            adcReel = 0
            temperatureNTC1 = 0
            temperatureNTC2 = 0
            powerV = 0
            powerA = 0
            fanFrequency = Array(repeating: 0, count: 4)
            reserve = 0
            crc = 0
        }

        public func writeFields<W: UnitreeFieldWriter>(to writer: inout W) {
            writer.writeArray(head, count: 2)
            writer.write(levelFlag)
            writer.write(frameReserve)
            writer.writeArray(sn, count: 2)
            writer.writeArray(version, count: 2)
            writer.write(bandwidth)
            writer.writeStruct(imuState)
            writer.writeStructs(motorState, count: 20)
            writer.writeStruct(bmsState)
            writer.writeArray(footForce, count: 4)
            writer.writeArray(footForceEst, count: 4)
            writer.write(tick)
            writer.writeArray(wirelessRemote, count: 40)
            writer.write(bitFlag)
            writer.write(adcReel)
            writer.write(temperatureNTC1)
            writer.write(temperatureNTC2)
            writer.write(powerV)
            writer.write(powerA)
            writer.writeArray(fanFrequency, count: 4)
            writer.write(reserve)
            writer.write(crc)
        }

        public init(from reader: inout CDRReader) throws {
            head = try reader.readArray(of: UInt8.self, count: 2)
            levelFlag = try reader.read(UInt8.self)
            frameReserve = try reader.read(UInt8.self)
            sn = try reader.readArray(of: UInt32.self, count: 2)
            version = try reader.readArray(of: UInt32.self, count: 2)
            bandwidth = try reader.read(UInt16.self)
            imuState = try reader.read(IMUState.self)
            motorState = try reader.readArray(of: MotorState.self, count: 20)
            bmsState = try reader.read(BmsState.self)
            footForce = try reader.readArray(of: Int16.self, count: 4)
            footForceEst = try reader.readArray(of: Int16.self, count: 4)
            tick = try reader.read(UInt32.self)
            wirelessRemote = try reader.readArray(of: UInt8.self, count: 40)
            bitFlag = try reader.read(UInt8.self)
            adcReel = try reader.read(Float.self)
            temperatureNTC1 = try reader.read(UInt8.self)
            temperatureNTC2 = try reader.read(UInt8.self)
            powerV = try reader.read(Float.self)
            powerA = try reader.read(Float.self)
            fanFrequency = try reader.readArray(of: UInt16.self, count: 4)
            reserve = try reader.read(UInt32.self)
            crc = try reader.read(UInt32.self)
        }
    }
}

/// `unitree_hg`: the low-level messages of the G1 and H1-2 humanoids.
public enum UnitreeHGMsgs {
    /// `unitree_hg/msg/MotorCmd`: one motor's command (PD target and feed-forward torque).
    public struct MotorCmd: UnitreeStruct, Hashable {
        public static let typeName = "unitree_hg/msg/MotorCmd"
        public static let messageText = """
            uint8 mode
            float32 q
            float32 dq
            float32 tau
            float32 kp
            float32 kd
            uint32 reserve

            """

        /// 1 to enable the motor (servo mode), 0 to leave it off.
        public var mode: UInt8
        /// Target position, rad.
        public var q: Float
        /// Target velocity, rad/s.
        public var dq: Float
        /// Feed-forward torque, N·m.
        public var tau: Float
        /// Position gain, N·m/rad.
        public var kp: Float
        /// Velocity gain, N·m·s/rad.
        public var kd: Float
        public var reserve: UInt32

        /// Every field zero (fixed arrays at their full length).
        public init() {
            mode = 0
            q = 0
            dq = 0
            tau = 0
            kp = 0
            kd = 0
            reserve = 0
        }

        public func writeFields<W: UnitreeFieldWriter>(to writer: inout W) {
            writer.write(mode)
            writer.write(q)
            writer.write(dq)
            writer.write(tau)
            writer.write(kp)
            writer.write(kd)
            writer.write(reserve)
        }

        public init(from reader: inout CDRReader) throws {
            mode = try reader.read(UInt8.self)
            q = try reader.read(Float.self)
            dq = try reader.read(Float.self)
            tau = try reader.read(Float.self)
            kp = try reader.read(Float.self)
            kd = try reader.read(Float.self)
            reserve = try reader.read(UInt32.self)
        }
    }

    /// `unitree_hg/msg/MotorState`: one motor's measured state.
    public struct MotorState: UnitreeStruct, Hashable {
        public static let typeName = "unitree_hg/msg/MotorState"
        public static let messageText = """
            uint8 mode
            float32 q
            float32 dq
            float32 ddq
            float32 tau_est
            int16[2] temperature
            float32 vol
            uint32[2] sensor
            uint32 motorstate
            uint32[4] reserve

            """

        public var mode: UInt8
        /// Position, rad.
        public var q: Float
        /// Velocity, rad/s.
        public var dq: Float
        /// Acceleration, rad/s².
        public var ddq: Float
        /// Estimated torque, N·m.
        public var tauEst: Float
        /// Winding temperature, °C.
        public var temperature: [Int16]
        /// Supply voltage, V.
        public var vol: Float
        public var sensor: [UInt32]
        /// Error and status bits; 0 when healthy.
        public var motorstate: UInt32
        public var reserve: [UInt32]

        /// Every field zero (fixed arrays at their full length).
        public init() {
            mode = 0
            q = 0
            dq = 0
            ddq = 0
            tauEst = 0
            temperature = Array(repeating: 0, count: 2)
            vol = 0
            sensor = Array(repeating: 0, count: 2)
            motorstate = 0
            reserve = Array(repeating: 0, count: 4)
        }

        public func writeFields<W: UnitreeFieldWriter>(to writer: inout W) {
            writer.write(mode)
            writer.write(q)
            writer.write(dq)
            writer.write(ddq)
            writer.write(tauEst)
            writer.writeArray(temperature, count: 2)
            writer.write(vol)
            writer.writeArray(sensor, count: 2)
            writer.write(motorstate)
            writer.writeArray(reserve, count: 4)
        }

        public init(from reader: inout CDRReader) throws {
            mode = try reader.read(UInt8.self)
            q = try reader.read(Float.self)
            dq = try reader.read(Float.self)
            ddq = try reader.read(Float.self)
            tauEst = try reader.read(Float.self)
            temperature = try reader.readArray(of: Int16.self, count: 2)
            vol = try reader.read(Float.self)
            sensor = try reader.readArray(of: UInt32.self, count: 2)
            motorstate = try reader.read(UInt32.self)
            reserve = try reader.readArray(of: UInt32.self, count: 4)
        }
    }

    /// `unitree_hg/msg/IMUState`: the body IMU.
    public struct IMUState: UnitreeStruct, Hashable {
        public static let typeName = "unitree_hg/msg/IMUState"
        public static let messageText = """
            float32[4] quaternion
            float32[3] gyroscope
            float32[3] accelerometer
            float32[3] rpy
            int16 temperature

            """

        /// Orientation of the body in the world, w x y z.
        public var quaternion: [Float]
        /// Angular velocity in the IMU frame, rad/s.
        public var gyroscope: [Float]
        /// Specific force in the IMU frame, m/s².
        public var accelerometer: [Float]
        /// Roll, pitch, yaw, rad.
        public var rpy: [Float]
        /// °C.
        public var temperature: Int16

        /// Every field zero (fixed arrays at their full length).
        public init() {
            quaternion = Array(repeating: 0, count: 4)
            gyroscope = Array(repeating: 0, count: 3)
            accelerometer = Array(repeating: 0, count: 3)
            rpy = Array(repeating: 0, count: 3)
            temperature = 0
        }

        public func writeFields<W: UnitreeFieldWriter>(to writer: inout W) {
            writer.writeArray(quaternion, count: 4)
            writer.writeArray(gyroscope, count: 3)
            writer.writeArray(accelerometer, count: 3)
            writer.writeArray(rpy, count: 3)
            writer.write(temperature)
        }

        public init(from reader: inout CDRReader) throws {
            quaternion = try reader.readArray(of: Float.self, count: 4)
            gyroscope = try reader.readArray(of: Float.self, count: 3)
            accelerometer = try reader.readArray(of: Float.self, count: 3)
            rpy = try reader.readArray(of: Float.self, count: 3)
            temperature = try reader.read(Int16.self)
        }
    }

    /// `unitree_hg/msg/LowCmd` on `rt/lowcmd`: a command for all 35 motor slots of a G1 / H1-2.
    public struct LowCmd: UnitreeCheckedMessage, Hashable {
        public static let typeName = "unitree_hg/msg/LowCmd"
        public static let messageText = """
            uint8 mode_pr
            uint8 mode_machine
            unitree_hg/MotorCmd[35] motor_cmd
            uint32[4] reserve
            uint32 crc

            """
        public static var dependencies: [any ROSMessage.Type] { [MotorCmd.self] }

        /// Ankle joint convention: 0 pitch/roll (PR), 1 A/B motors.
        public var modePR: UInt8
        /// The robot model the controller reports (the G1/H1-2 variant).
        public var modeMachine: UInt8
        public var motorCmd: [MotorCmd]
        public var reserve: [UInt32]
        /// `UnitreeCRC` of the packed message; set it with `sealCRC()` after every other change.
        public var crc: UInt32

        /// Every field zero (fixed arrays at their full length).
        public init() {
            modePR = 0
            modeMachine = 0
            motorCmd = Array(repeating: MotorCmd(), count: 35)
            reserve = Array(repeating: 0, count: 4)
            crc = 0
        }

        public func writeFields<W: UnitreeFieldWriter>(to writer: inout W) {
            writer.write(modePR)
            writer.write(modeMachine)
            writer.writeStructs(motorCmd, count: 35)
            writer.writeArray(reserve, count: 4)
            writer.write(crc)
        }

        public init(from reader: inout CDRReader) throws {
            modePR = try reader.read(UInt8.self)
            modeMachine = try reader.read(UInt8.self)
            motorCmd = try reader.readArray(of: MotorCmd.self, count: 35)
            reserve = try reader.readArray(of: UInt32.self, count: 4)
            crc = try reader.read(UInt32.self)
        }
    }

    /// `unitree_hg/msg/LowState` on `rt/lowstate`: the whole low-level state of a G1 / H1-2.
    public struct LowState: UnitreeCheckedMessage, Hashable {
        public static let typeName = "unitree_hg/msg/LowState"
        public static let messageText = """
            uint32[2] version
            uint8 mode_pr
            uint8 mode_machine
            uint32 tick
            unitree_hg/IMUState imu_state
            unitree_hg/MotorState[35] motor_state
            uint8[40] wireless_remote
            uint32[4] reserve
            uint32 crc

            """
        public static var dependencies: [any ROSMessage.Type] { [IMUState.self, MotorState.self] }

        public var version: [UInt32]
        /// Ankle joint convention: 0 pitch/roll (PR), 1 A/B motors.
        public var modePR: UInt8
        /// The robot model the controller reports (the G1/H1-2 variant).
        public var modeMachine: UInt8
        /// The controller's counter, ms; it advances with every state.
        public var tick: UInt32
        public var imuState: IMUState
        public var motorState: [MotorState]
        /// The wireless remote's raw frame (buttons and sticks).
        public var wirelessRemote: [UInt8]
        public var reserve: [UInt32]
        /// `UnitreeCRC` of the packed message (`sealCRC()`, `hasValidCRC`).
        public var crc: UInt32

        /// Every field zero (fixed arrays at their full length).
        public init() {
            version = Array(repeating: 0, count: 2)
            modePR = 0
            modeMachine = 0
            tick = 0
            imuState = IMUState()
            motorState = Array(repeating: MotorState(), count: 35)
            wirelessRemote = Array(repeating: 0, count: 40)
            reserve = Array(repeating: 0, count: 4)
            crc = 0
        }

        public func writeFields<W: UnitreeFieldWriter>(to writer: inout W) {
            writer.writeArray(version, count: 2)
            writer.write(modePR)
            writer.write(modeMachine)
            writer.write(tick)
            writer.writeStruct(imuState)
            writer.writeStructs(motorState, count: 35)
            writer.writeArray(wirelessRemote, count: 40)
            writer.writeArray(reserve, count: 4)
            writer.write(crc)
        }

        public init(from reader: inout CDRReader) throws {
            version = try reader.readArray(of: UInt32.self, count: 2)
            modePR = try reader.read(UInt8.self)
            modeMachine = try reader.read(UInt8.self)
            tick = try reader.read(UInt32.self)
            imuState = try reader.read(IMUState.self)
            motorState = try reader.readArray(of: MotorState.self, count: 35)
            wirelessRemote = try reader.readArray(of: UInt8.self, count: 40)
            reserve = try reader.readArray(of: UInt32.self, count: 4)
            crc = try reader.read(UInt32.self)
        }
    }
}
