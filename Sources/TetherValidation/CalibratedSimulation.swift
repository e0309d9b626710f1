import Foundation
import TetherCalibration
import TetherCore
import TetherRuntime
import TetherSim

/// The simulation as a calibration describes the robot: the nominal model with the calibrated
/// values written in (what the patched MJCF holds), the motor driver's measured lag and dead
/// time, and the sensors' measured noise and gyro bias. Trials in it are the model's prediction
/// of the real trials; setting one group of calibrated parameters back to nominal and running the
/// same trials again says which measured differences the real failures come from
/// (`GapAttribution.run(calibrated:…)`).
///
/// Parameters are grouped by kind (`joint.damping`, `joint.frictionloss`, `body.mass`,
/// `driver.lag`, `driver.delay`, `sensors`, …), not one by one: a quadruped has 12 joints, and a
/// trial set of tens of trials cannot tell 36 single-parameter runs apart. Only a group that
/// explains the failures is drilled into, one member at a time (`configuration(nominal:members:)`).
///
/// What is simulated, and what is not (`skipped`, with the reason):
/// - model parameters: those the calibration patched into the model (a `SimParameter` path with
///   a nominal value); parameters it did not patch (not identifiable, or a derived figure such
///   as `inertia_about[…]`) stay nominal, as in the patched model;
/// - `driver.lag` and `driver.delay`: the first-order lag and dead time of `SimRobot.driver`.
///   The delay from torque doublets is the whole command → measured response time, so it
///   stands for the round trip; `sensor.delay` is then not added a second time — unless a
///   trajectory fit estimated both, splitting the latency, in which case their sum is the dead
///   time (and both belong to the `driver.delay` group);
/// - a parameter estimated twice (a trajectory fit beside the closed form): the first estimate,
///   the one the calibration patched, is simulated; the second is listed in `skipped`;
/// - `sensor.gyro.*.noise`, `sensor.accel.*.noise`, `sensor.joint_position.noise`: white
///   noise on what the runtime reads, and `sensor.gyro.*.bias` as a constant offset. The
///   accelerometer bias is not simulated: a lying robot's accelerometer reads its tilt too, so
///   the stationary test's "bias" is not the sensor's alone.
public struct CalibratedSimulation: Sendable {
    /// One calibrated parameter in a group.
    public struct Member: Sendable, Codable, Equatable {
        public var name: String
        public var unit: String
        public var nominal: [Double]
        public var calibrated: [Double]
    }

    /// Parameters set back to nominal together.
    public struct Group: Sendable, Codable, Equatable {
        /// `joint.damping`, `driver.delay`, `sensors`, …
        public var name: String
        public var members: [Member]
        /// "12 parameters, mean change +38 %" or "0 → 12.1 ms".
        public var summary: String
    }

    /// Where the calibration came from (a path).
    public let source: String
    /// The groups, in a fixed order (model, driver, sensors).
    public let groups: [Group]
    /// Calibrated parameters that trials do not simulate, with the reason.
    public let skipped: [String]
    private let edits: [(group: String, name: String, parameter: SimParameter, values: [Double])]
    private let driverValues: [String: Double]
    private let sensorValues: [String: Double]

    /// Reads what `calibration` measured for `robot`.
    public init(calibration: CalibrationFile, source: String, robot: RobotModel) throws {
        guard calibration.robot == robot.manifest.name else {
            throw TetherError("the calibration is of \(calibration.robot), the trials run \(robot.manifest.name)", at: source,
                              hint: "calibrate this robot, or pass --robot \(calibration.robot)")
        }
        self.source = source
        var edits: [(String, String, SimParameter, [Double])] = []
        var members: [String: [Member]] = [:]
        var order: [String] = []
        var skipped: [String] = []
        var driver: [String: Double] = [:]
        var sensors: [String: Double] = [:]
        func add(_ group: String, _ member: Member) {
            if members[group] == nil { order.append(group) }
            members[group, default: []].append(member)
        }
        var seen: [String: String] = [:]  // name → method of the estimate used
        // sensor.delay counts separately only when a trajectory fit split the latency into
        // command and sensor sides (driver.delay then holds the command side alone).
        let splitDelay = calibration.parameters.contains { $0.name == "sensor.delay" && $0.method.contains("trajectory") }
            && calibration.parameters.first { $0.name == "driver.delay" }.map { $0.method.contains("trajectory") } == true
        for p in calibration.parameters {
            // A second estimate of the same parameter (a trajectory fit beside the closed form):
            // the first, which the calibration patched, is the one simulated.
            if let method = seen[p.name] {
                skipped.append("\(p.name) (\(p.method)): a second estimate; the first (\(method)) is the one simulated")
                continue
            }
            if p.name == "sensor.delay" && splitDelay, let v = p.estimate.first, v.isFinite, v >= 0 {
                seen[p.name] = p.method
                driver["sensor.delay"] = v
                add("driver.delay", Member(name: p.name, unit: p.unit, nominal: p.nominal ?? [0], calibrated: [v]))
                continue
            }
            if p.name == "driver.lag" || p.name == "driver.delay" {
                seen[p.name] = p.method
                guard let v = p.estimate.first, v.isFinite, v >= 0 else { skipped.append("\(p.name): estimate \(p.estimate) is not a time"); continue }
                driver[p.name] = v
                add(p.name, Member(name: p.name, unit: p.unit, nominal: p.nominal ?? [0], calibrated: [v]))
                continue
            }
            if p.name.hasPrefix("sensor.") {
                seen[p.name] = p.method
                if let key = Self.sensorKey(p.name), let v = p.estimate.first, v.isFinite {
                    sensors[key] = v
                    add("sensors", Member(name: p.name, unit: p.unit, nominal: p.nominal ?? [0], calibrated: [v]))
                } else {
                    skipped.append("\(p.name): \(Self.sensorSkipReason(p.name))")
                }
                continue
            }
            guard p.patched else {
                seen[p.name] = p.method
                skipped.append("\(p.name): not written into the patched model\(p.flags.isEmpty ? "" : " (\(p.flags.joined(separator: "; ")))"), so it stays "
                    + "nominal")
                continue
            }
            guard let parameter = try? SimParameter(path: p.name), parameter.count == p.estimate.count else {
                skipped.append("\(p.name): not a model parameter trials can set")
                continue
            }
            let nominal: [Double]
            do { nominal = try robot.model.get(parameter) } catch {
                throw TetherError("calibrated parameter \(p.name) is not in \(robot.manifest.name)'s model: \(error)", at: source,
                                  hint: "the calibration was made on another model; calibrate again")
            }
            seen[p.name] = p.method
            let group = Self.groupName(p.name)
            edits.append((group, p.name, parameter, p.estimate))
            add(group, Member(name: p.name, unit: p.unit, nominal: nominal, calibrated: p.estimate))
        }
        // Model groups first (in file order), then the driver, then the sensors.
        let rank: (String) -> Int = { $0.hasPrefix("driver.") ? 1 : $0 == "sensors" ? 2 : 0 }
        let sorted = order.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }.map(\.element)
        groups = sorted.map { name in Group(name: name, members: members[name]!, summary: Self.summary(members[name]!)) }
        self.edits = edits
        self.skipped = skipped
        driverValues = driver
        sensorValues = sensors
        if groups.isEmpty {
            throw TetherError("the calibration holds nothing trials can simulate (\(calibration.parameters.count) parameters)", at: source,
                              hint: "calibrate from torque steps, sweeps or a trajectory fit so that model or driver parameters are measured")
        }
    }

    /// Loads `calibration.yaml` / `.json` (or the folder `tether calibrate` wrote).
    public static func load(path: String, robot: RobotModel) throws -> CalibratedSimulation {
        var file = path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            file = (path as NSString).appendingPathComponent("calibration.yaml")
        }
        return try CalibratedSimulation(calibration: try CalibrationFile.load(path: file), source: file, robot: robot)
    }

    /// What one trial set runs on: the model, driver and sensors with `nominal` groups set back.
    public struct Configuration: Sendable {
        /// The robot on a copy of its model with the calibrated values written in.
        public var robot: RobotModel
        /// The motor drivers' dead time and lag (`SimRobot.actuator`).
        public var driver: DriverDynamics
        /// The sensors between the simulation and what the runtime reads (`SimulatedRobot.sensors`).
        public var sensors: SensorModel
    }

    /// The calibrated simulation with the groups in `nominal`, and the single parameters in
    /// `members` (a drill-down: `joint[FR_calf_joint].damping`, `sensor.delay`), set back to their
    /// nominal values. The robot's model is a copy; `robot` is not changed.
    public func configuration(robot: RobotModel, nominal: Set<String> = [], members: Set<String> = []) throws -> Configuration {
        let unknown = nominal.subtracting(groups.map(\.name))
        guard unknown.isEmpty else {
            throw TetherError("no calibrated group \(unknown.sorted().joined(separator: ", ")) in \(source)",
                              hint: "the groups are \(groups.map(\.name).joined(separator: ", "))")
        }
        let memberNames = groups.flatMap { $0.members.map(\.name) }
        let unknownMembers = members.subtracting(memberNames)
        guard unknownMembers.isEmpty else {
            throw TetherError("no calibrated parameter \(unknownMembers.sorted().joined(separator: ", ")) simulated from \(source)",
                              hint: "the simulated parameters are \(memberNames.joined(separator: ", "))")
        }
        let model = robot.model.copy()
        for e in edits where !nominal.contains(e.group) && !members.contains(e.name) {
            do { try model.set(e.parameter, e.values) } catch {
                throw TetherError("cannot set \(e.parameter) to its calibrated value: \(error)", at: source)
            }
        }
        func driverValue(_ name: String) -> Double { members.contains(name) ? 0 : driverValues[name] ?? 0 }
        let delay = driverValue("driver.delay") + driverValue("sensor.delay")
        let driver = DriverDynamics(lagTimeConstant: nominal.contains("driver.lag") ? 0 : driverValue("driver.lag"),
                                    actionDelay: nominal.contains("driver.delay") ? 0 : delay)
        var sensors = SensorModel()
        if !nominal.contains("sensors") {
            let s = sensorValues.filter { !members.contains("sensor.\($0.key)") }
            sensors.gyroNoise = SIMD3(s["gyro.x.noise"] ?? 0, s["gyro.y.noise"] ?? 0, s["gyro.z.noise"] ?? 0)
            sensors.gyroBias = SIMD3(s["gyro.x.bias"] ?? 0, s["gyro.y.bias"] ?? 0, s["gyro.z.bias"] ?? 0)
            sensors.accelerometerNoise = SIMD3(s["accel.x.noise"] ?? 0, s["accel.y.noise"] ?? 0, s["accel.z.noise"] ?? 0)
            sensors.positionNoise = s["joint_position.noise"] ?? 0
        }
        return Configuration(robot: robot.with(model: model), driver: driver, sensors: sensors)
    }

    /// `joint[FR_calf_joint].damping` → `joint.damping`; `body[trunk].mass` → `body.mass`.
    static func groupName(_ path: String) -> String {
        guard let open = path.firstIndex(of: "["), let close = path.lastIndex(of: "]"), open < close else { return path }
        let kind = path[..<open]
        let field = path[path.index(after: close)...].drop { $0 == "." }
        return field.isEmpty ? String(kind) : "\(kind).\(field)"
    }

    /// The key of a simulated sensor error (`gyro.x.noise`), nil for what trials do not simulate.
    static func sensorKey(_ name: String) -> String? {
        let key = String(name.dropFirst("sensor.".count))
        let parts = key.split(separator: ".").map(String.init)
        if parts.count == 3, ["gyro", "accel"].contains(parts[0]), ["x", "y", "z"].contains(parts[1]) {
            if parts[2] == "noise" { return key }
            if parts[2] == "bias" && parts[0] == "gyro" { return key }
        }
        return key == "joint_position.noise" ? key : nil
    }

    static func sensorSkipReason(_ name: String) -> String {
        if name == "sensor.delay" { return "contained in driver.delay (the measured command → response time), not added twice" }
        if name.hasPrefix("sensor.orientation") { return "the orientation estimate's noise is not simulated (the gyro's is)" }
        if name.hasPrefix("sensor.accel") && name.hasSuffix(".bias") { return "a lying robot's accelerometer reads its tilt too; not the sensor's bias alone" }
        if name.hasPrefix("sensor.joint[") && name.hasSuffix("].position_noise") { return "per joint, reported; the pooled sensor.joint_position.noise is "
            + "simulated" }
        if name.hasPrefix("sensor.joint[") && name.hasSuffix("].offset") { return "an encoder offset from the default pose, reported, not simulated" }
        if name.hasSuffix(".noise_density") { return "the same white noise as its .noise, per √Hz" }
        return "a noise figure (random walk, bias instability) over longer times than a trial"
    }

    static func summary(_ members: [Member]) -> String {
        func n(_ v: Double) -> String { String(format: "%.3g", v) }
        if members.count == 1, let m = members.first, m.nominal.count == 1, m.calibrated.count == 1 {
            if m.unit == "s" { return "\(n(m.nominal[0] * 1000)) → \(n(m.calibrated[0] * 1000)) ms" }
            return "\(n(m.nominal[0])) → \(n(m.calibrated[0])) \(m.unit)"
        }
        let changes = members.compactMap { m -> Double? in
            guard let a = m.nominal.first, let b = m.calibrated.first, a != 0 else { return nil }
            return (b - a) / abs(a)
        }
        let count = "\(members.count) parameter\(members.count == 1 ? "" : "s")"
        guard let low = changes.min(), let high = changes.max() else { return count }
        // The range, not a mean: +30 % on one joint and −20 % on another are not "+5 %".
        if String(format: "%+.0f", 100 * low) == String(format: "%+.0f", 100 * high) { return count + String(format: ", change %+.0f %%", 100 * low) }
        return count + String(format: ", change %+.0f … %+.0f %%", 100 * low, 100 * high)
    }
}
