import Foundation
import TetherCore
import TetherROS

/// Reads experiment recordings for calibration: MCAP bags from `tether experiment` or recorded
/// by ROS 2 elsewhere, and CSV.
///
/// Time axis: the messages' header stamps (the robot's measurement time), falling back to the
/// log time where a stamp is zero; seconds from the first joint state. What is wrong with the
/// data is never silently "fixed" into a wrong fit:
/// - a missing topic or joint is an error naming the recording, the topic and what is there;
/// - unsorted samples are sorted, duplicate timestamps dropped, gaps (> 5 × the median period)
///   counted — each with a warning naming the recording (`warnings`), so that a report shows it.
public struct RecordingLoader: Sendable {
    /// Joint names in manifest order (the recording's joints are mapped by name).
    public var jointNames: [String]
    /// Actuated joints in manifest order: the order of commands.
    public var actuatedJointNames: [String]
    /// Topics (defaults: the manifest's).
    public var jointStatesTopic: String
    public var commandsTopic: String
    public var imuTopic: String
    /// Problems found and handled, one line each, naming the recording.
    public private(set) var warnings: [String] = []

    public init(manifest: Manifest) {
        jointNames = manifest.joints.map(\.name)
        actuatedJointNames = manifest.actuatedJoints.map(\.name)
        jointStatesTopic = manifest.ros2.jointStates
        commandsTopic = manifest.ros2.jointCommands
        imuTopic = manifest.ros2.imu
    }

    /// Loads a recording by extension: `.mcap` or `.csv`.
    public mutating func load(_ path: String) throws -> ExperimentRecording {
        guard FileManager.default.fileExists(atPath: path) else {
            throw TetherError("recording not found", at: path, hint: "record one with `tether experiment KIND --out \(path)`")
        }
        switch (path as NSString).pathExtension.lowercased() {
        case "mcap": return try loadMCAP(path)
        case "csv": return try loadCSV(path)
        default:
            throw TetherError("unknown recording format '\((path as NSString).pathExtension)'", at: path,
                              hint: "an MCAP ROS 2 bag (.mcap) or a CSV file (.csv, format in docs/calibration.md)")
        }
    }

    // MARK: MCAP

    mutating func loadMCAP(_ path: String) throws -> ExperimentRecording {
        let reader = try MCAPReader(path: path)
        let topics = Set(reader.channels.values.map(\.topic))
        guard topics.contains(jointStatesTopic) else {
            throw TetherError("the recording has no joint states on \(jointStatesTopic)", at: path,
                              hint: "its topics: \(topics.sorted().joined(separator: ", ")); name the topic in the manifest's ros2.joint_states")
        }
        var metadata: [String: String] = [:]
        if let channel = reader.channels.values.first(where: { $0.topic == commandsTopic }) {
            for (k, v) in channel.metadata where k.hasPrefix("tether.experiment.") {
                metadata[String(k.dropFirst("tether.experiment.".count))] = v
            }
        }
        func seconds(_ stamp: BuiltinInterfaces.Time, _ logTime: UInt64) -> Double {
            stamp.nanoseconds != 0 ? Double(stamp.nanoseconds) * 1e-9 : Double(logTime) * 1e-9
        }
        let raw = try reader.messages(SensorMsgs.JointState.self, topic: jointStatesTopic)
        guard let first = raw.first else {
            throw TetherError("the recording has no joint-state messages on \(jointStatesTopic)", at: path, hint: "record the experiment again")
        }
        let map = try jointMap(first.message.name, source: path)
        let t0 = seconds(first.message.header.stamp, first.logTime)
        var states: [ExperimentRecording.StateSample] = []
        states.reserveCapacity(raw.count)
        var malformed = 0
        for (logTime, m) in raw {
            guard m.name == first.message.name || m.name.isEmpty, m.position.count == first.message.position.count else {
                malformed += 1
                continue
            }
            func pick(_ values: [Double]) -> [Double] {
                values.count == m.position.count ? map.map { values[$0] } : []
            }
            states.append(.init(time: seconds(m.header.stamp, logTime) - t0, positions: pick(m.position),
                                velocities: pick(m.velocity), efforts: pick(m.effort)))
        }
        if malformed > 0 {
            warnings.append("\(path): \(malformed) joint-state messages with other joints or sizes skipped")
        }
        states = clean(states, source: path, what: "joint states", time: \.time)

        var commands: [ExperimentRecording.CommandSample] = []
        if topics.contains(commandsTopic) {
            let actuated = actuatedJointNames.count
            for (logTime, m) in try reader.messages(StdMsgs.Float64MultiArray.self, topic: commandsTopic) {
                // The flight recorder's 5 × n layout (position, velocity, effort, kp, kd), or
                // ros2_control's forward position controller (n positions).
                if let c = JointCommand(multiArray: m, joints: actuated) {
                    commands.append(.init(time: Double(logTime) * 1e-9 - t0, command: c))
                } else if m.data.count == actuated {
                    commands.append(.init(time: Double(logTime) * 1e-9 - t0,
                                          command: JointCommand(positions: m.data, velocities: .init(repeating: 0, count: actuated),
                                                                torques: .init(repeating: 0, count: actuated),
                                                                kp: .init(repeating: .nan, count: actuated), kd: .init(repeating: .nan, count: actuated))))
                }
            }
            commands = clean(commands, source: path, what: "commands", time: \.time)
        } else {
            warnings.append("\(path): no commands on \(commandsTopic) (analyses that need the input are skipped)")
        }

        var imu: [ExperimentRecording.IMUSample] = []
        if topics.contains(imuTopic) {
            for (logTime, m) in try reader.messages(SensorMsgs.Imu.self, topic: imuTopic) {
                let o = m.orientation
                imu.append(.init(time: seconds(m.header.stamp, logTime) - t0,
                                 angularVelocity: SIMD3(m.angularVelocity.x, m.angularVelocity.y, m.angularVelocity.z),
                                 linearAcceleration: SIMD3(m.linearAcceleration.x, m.linearAcceleration.y, m.linearAcceleration.z),
                                 orientation: SIMD4(o.w, o.x, o.y, o.z)))
            }
            imu = clean(imu, source: path, what: "IMU samples", time: \.time)
        }
        return ExperimentRecording(source: path, kind: metadata["kind"], metadata: metadata, jointNames: jointNames,
                                   states: states, commands: commands, imu: imu)
    }

    /// For each manifest joint, its index in the recording's names.
    func jointMap(_ names: [String], source: String) throws -> [Int] {
        var map: [Int] = []
        var missing: [String] = []
        for j in jointNames {
            if let i = names.firstIndex(of: j) { map.append(i) } else { missing.append(j) }
        }
        guard missing.isEmpty else {
            throw TetherError("the recording lacks joint\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", "))", at: source,
                              hint: "its joints: \(names.joined(separator: ", ")); is it a recording of this robot?")
        }
        return map
    }

    /// Sorts by time (warning when it had to), drops duplicate times and non-finite times, and
    /// reports gaps longer than 5 × the median period.
    mutating func clean<T>(_ samples: [T], source: String, what: String, time: KeyPath<T, Double>) -> [T] {
        var s = samples.filter { $0[keyPath: time].isFinite }
        if s.count < samples.count { warnings.append("\(source): \(samples.count - s.count) \(what) with a non-finite time dropped") }
        if zip(s, s.dropFirst()).contains(where: { $0[keyPath: time] > $1[keyPath: time] }) {
            warnings.append("\(source): \(what) were not in time order; sorted")
            s.sort { $0[keyPath: time] < $1[keyPath: time] }
        }
        var out: [T] = []
        out.reserveCapacity(s.count)
        var duplicates = 0
        for x in s {
            if let last = out.last, x[keyPath: time] <= last[keyPath: time] { duplicates += 1; continue }
            out.append(x)
        }
        if duplicates > 0 { warnings.append("\(source): \(duplicates) \(what) with a duplicate timestamp dropped (first kept)") }
        if out.count > 2 {
            var periods = zip(out, out.dropFirst()).map { $1[keyPath: time] - $0[keyPath: time] }
            let largest = periods.max() ?? 0
            periods.sort()
            let median = periods[periods.count / 2]
            let gaps = zip(out, out.dropFirst()).filter { $1[keyPath: time] - $0[keyPath: time] > 5 * median }.count
            if gaps > 0 {
                warnings.append(String(format: "%@: %d gaps in the %@ (largest %.3f s, median period %.4f s)", source, gaps, what, largest, median))
            }
        }
        return out
    }

    // MARK: CSV

    /// CSV: a header row, then one row per sample. Columns: `time` (s), and per joint
    /// `<joint>.position`, `<joint>.velocity`, `<joint>.effort`, optionally the command
    /// `<joint>.cmd_position`, `.cmd_velocity`, `.cmd_effort`, `.cmd_kp`, `.cmd_kd`; optionally
    /// `gyro.x|y|z`, `accel.x|y|z`. Empty cells mean "not measured". A comment line
    /// `# kind: sweep` (and `# key: value`) gives metadata.
    mutating func loadCSV(_ path: String) throws -> ExperimentRecording {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw TetherError("cannot read the CSV recording: \(error.localizedDescription)", at: path, hint: "a UTF-8 text file")
        }
        var metadata: [String: String] = [:]
        var rows: [(line: Int, cells: [Substring])] = []
        var header: [String]?
        for (n, lineText) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = lineText.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let body = line.dropFirst().trimmingCharacters(in: .whitespaces)
                if let colon = body.firstIndex(of: ":") {
                    metadata[body[..<colon].trimmingCharacters(in: .whitespaces)] = body[body.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                continue
            }
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            if header == nil { header = cells.map { $0.trimmingCharacters(in: .whitespaces) }; continue }
            rows.append((n + 1, cells))
        }
        guard let header, let timeColumn = header.firstIndex(of: "time") else {
            throw TetherError("the CSV has no header with a 'time' column", at: path, hint: "first line: time,<joint>.position,<joint>.velocity,…")
        }
        func column(_ name: String) -> Int? { header.firstIndex(of: name) }
        var missing: [String] = []
        for j in jointNames where column("\(j).position") == nil { missing.append("\(j).position") }
        guard missing.isEmpty else {
            throw TetherError("the CSV lacks column\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", "))", at: path,
                              hint: "its columns: \(header.joined(separator: ", "))")
        }
        func value(_ row: (line: Int, cells: [Substring]), _ c: Int?) throws -> Double? {
            guard let c, c < row.cells.count else { return nil }
            let s = row.cells[c].trimmingCharacters(in: .whitespaces)
            if s.isEmpty { return nil }
            guard let v = Double(s) else {
                throw TetherError("'\(s)' in column \(header[c]) is not a number", at: "\(path):\(row.line)", hint: "numbers in SI units, empty for missing")
            }
            return v
        }
        var states: [ExperimentRecording.StateSample] = []
        var commands: [ExperimentRecording.CommandSample] = []
        var imu: [ExperimentRecording.IMUSample] = []
        let hasCommand = actuatedJointNames.allSatisfy { column("\($0).cmd_position") != nil || column("\($0).cmd_effort") != nil }
        let hasIMU = column("gyro.x") != nil
        for row in rows {
            guard let t = try value(row, timeColumn) else {
                throw TetherError("row without a time", at: "\(path):\(row.line)", hint: "every row needs its time in seconds")
            }
            var q: [Double] = [], qd: [Double] = [], tau: [Double] = []
            for j in jointNames {
                q.append(try value(row, column("\(j).position")) ?? .nan)
                if let v = try value(row, column("\(j).velocity")) { qd.append(v) }
                if let v = try value(row, column("\(j).effort")) { tau.append(v) }
            }
            states.append(.init(time: t, positions: q, velocities: qd.count == q.count ? qd : [], efforts: tau.count == q.count ? tau : []))
            if hasCommand {
                func f(_ field: String, _ fallback: Double) throws -> [Double] {
                    try actuatedJointNames.map { try value(row, column("\($0).\(field)")) ?? fallback }
                }
                commands.append(.init(time: t, command: JointCommand(positions: try f("cmd_position", .nan), velocities: try f("cmd_velocity", 0),
                                                                      torques: try f("cmd_effort", 0), kp: try f("cmd_kp", 0), kd: try f("cmd_kd", 0))))
            }
            if hasIMU {
                let g = SIMD3(try value(row, column("gyro.x")) ?? .nan, try value(row, column("gyro.y")) ?? .nan, try value(row, column("gyro.z")) ?? .nan)
                let a = SIMD3(try value(row, column("accel.x")) ?? .nan, try value(row, column("accel.y")) ?? .nan, try value(row, column("accel.z")) ?? .nan)
                imu.append(.init(time: t, angularVelocity: g, linearAcceleration: a))
            }
        }
        guard !states.isEmpty else { throw TetherError("the CSV has no data rows", at: path, hint: "one row per sample after the header") }
        let t0 = states.map(\.time).min() ?? 0
        states = clean(states.map { var s = $0; s.time -= t0; return s }, source: path, what: "joint states", time: \.time)
        commands = clean(commands.map { var c = $0; c.time -= t0; return c }, source: path, what: "commands", time: \.time)
        imu = clean(imu.map { var s = $0; s.time -= t0; return s }, source: path, what: "IMU samples", time: \.time)
        return ExperimentRecording(source: path, kind: metadata["kind"], metadata: metadata, jointNames: jointNames,
                                   states: states, commands: commands, imu: imu)
    }
}
