import Foundation
import TetherCore
import TetherROS

/// Reads experiment recordings for calibration: MCAP bags from `tether experiment` or recorded
/// by ROS 2 elsewhere, and CSV.
///
/// Topics: the manifest's `ros2.joint_states` and `ros2.imu` (or the ones chosen with
/// `chosenJointStatesTopic` / `chosenIMUTopic`). A bag recorded elsewhere may name them
/// otherwise: when the manifest's topic is absent, the channel is found by its schema
/// (`sensor_msgs/msg/JointState`, `sensor_msgs/msg/Imu`); several candidates are an error that
/// lists them. Which topic was used, and why, is said in `notes`.
///
/// Time axis: the messages' header stamps (the robot's measurement time) when they are sane on
/// every topic used (none zero, at most 10 % going back or repeating), else the log times (when
/// the recorder received them); `notes` says which. Seconds from the first joint state. What is
/// wrong with the data is never silently "fixed" into a wrong fit:
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
    /// Topics the user chose (`--joint-states-topic`, `--imu-topic`): used as given, and an
    /// error when the recording lacks them. nil: the manifest's, else found by schema.
    public var chosenJointStatesTopic: String?
    public var chosenIMUTopic: String?
    /// Problems found and handled, one line each, naming the recording.
    public private(set) var warnings: [String] = []
    /// What was used, one line each, naming the recording: topics (and how they were found),
    /// the time base (header stamps or log times).
    public private(set) var notes: [String] = []

    public init(manifest: Manifest) {
        jointNames = manifest.joints.map(\.name)
        actuatedJointNames = manifest.actuatedJoints.map(\.name)
        jointStatesTopic = manifest.ros2.jointStates
        commandsTopic = manifest.ros2.jointCommands
        imuTopic = manifest.ros2.imu
    }

    /// Loads a recording by extension: `.mcap` or `.csv`.
    public mutating func load(_ path: String) throws -> ExperimentRecording {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw TetherError("recording not found", at: path, hint: "record one with `tether experiment KIND --out \(path)`")
        }
        if isDirectory.boolValue {
            // A bag directory as `ros2 bag record` writes it (metadata.yaml and the MCAP files).
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.lowercased().hasSuffix(".mcap") }.sorted()
            guard files.count == 1 else {
                throw TetherError(files.isEmpty ? "the bag directory holds no MCAP file" : "the bag directory holds \(files.count) MCAP files: "
                    + "\(files.joined(separator: ", "))", at: path,
                                  hint: files.isEmpty ? "record with `ros2 bag record -s mcap`, or convert the bag to MCAP" : "a split bag: pass its files "
                                      + "one by one, or merge them into one first")
            }
            return try loadMCAP((path as NSString).appendingPathComponent(files[0]))
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

    /// The schema names of the message types calibration reads, as rosbag2 and Tether write them.
    static let jointStateSchemas: Set<String> = [SensorMsgs.JointState.typeName, SensorMsgs.JointState.shortTypeName]
    static let imuSchemas: Set<String> = [SensorMsgs.Imu.typeName, SensorMsgs.Imu.shortTypeName]

    /// The topic to read for one kind of message: the chosen one (must be there), else the
    /// manifest's when the recording has it, else the only channel with that schema. nil when
    /// there is none (the caller decides whether that is an error).
    mutating func resolveTopic(_ what: String, manifestTopic: String, chosen: String?, schemas: Set<String>, option: String,
                               reader: MCAPReader, path: String) throws -> String? {
        let topics = Set(reader.channels.values.map(\.topic))
        let candidates = Set(reader.channels.values.filter { c in reader.schemas[c.schemaID].map { schemas.contains($0.name) } ?? false }.map(\.topic)).sorted()
        func listing() -> String {
            topics.sorted().map { t in
                let schema = reader.channels.values.first { $0.topic == t }.flatMap { reader.schemas[$0.schemaID]?.name } ?? "no schema"
                return "\(t) (\(schema))"
            }.joined(separator: ", ")
        }
        if let chosen {
            guard topics.contains(chosen) else {
                throw TetherError("the recording has no topic \(chosen) (chosen with \(option))", at: path,
                                  hint: "its topics: \(listing())")
            }
            notes.append("\(path): \(what) from \(chosen) (chosen with \(option))")
            return chosen
        }
        if topics.contains(manifestTopic) { return manifestTopic }
        switch candidates.count {
        case 0:
            return nil
        case 1:
            notes.append("\(path): \(what) from \(candidates[0]), found by its schema (the manifest's \(manifestTopic) is not in the recording)")
            return candidates[0]
        default:
            throw TetherError("the recording has \(candidates.count) \(what) topics and none is the manifest's \(manifestTopic): "
                + "\(candidates.joined(separator: ", "))", at: path,
                              hint: "choose one with \(option) TOPIC (e.g. \(option) \(candidates[0])), or name it in the manifest's ros2 section")
        }
    }

    /// Whether header stamps can be the time axis: none zero, and at most 10 % of the steps going
    /// back or repeating (a driver that stamps with a coarse, frozen or reset clock; a few out of
    /// order are sorted, with a warning). The reason when not.
    static func headerStampProblem(_ stamps: [Int64], topic: String) -> String? {
        guard !stamps.isEmpty else { return nil }
        let zero = stamps.filter { $0 == 0 }.count
        if zero > 0 { return "\(zero) of \(stamps.count) header stamps on \(topic) are zero" }
        let back = zip(stamps, stamps.dropFirst()).filter { $1 <= $0 }.count
        if stamps.count > 1, Double(back) > 0.1 * Double(stamps.count - 1) {
            return "\(back) of \(stamps.count - 1) header stamps on \(topic) repeat or go back"
        }
        return nil
    }

    mutating func loadMCAP(_ path: String) throws -> ExperimentRecording {
        let reader = try MCAPReader(path: path)
        let topics = Set(reader.channels.values.map(\.topic))
        guard let statesTopic = try resolveTopic("joint states", manifestTopic: jointStatesTopic, chosen: chosenJointStatesTopic,
                                                 schemas: Self.jointStateSchemas, option: "--joint-states-topic", reader: reader, path: path) else {
            throw TetherError("the recording has no joint states on \(jointStatesTopic), nor any sensor_msgs/msg/JointState topic", at: path,
                              hint: "its topics: \(topics.sorted().joined(separator: ", ")); name the topic in the manifest's ros2.joint_states or with "
                                  + "--joint-states-topic")
        }
        let imuTopicUsed = try resolveTopic("IMU", manifestTopic: imuTopic, chosen: chosenIMUTopic, schemas: Self.imuSchemas,
                                            option: "--imu-topic", reader: reader, path: path)
        var metadata: [String: String] = [:]
        if let channel = reader.channels.values.first(where: { $0.topic == commandsTopic }) {
            for (k, v) in channel.metadata where k.hasPrefix("tether.experiment.") {
                metadata[String(k.dropFirst("tether.experiment.".count))] = v
            }
        }
        let raw = try reader.messages(SensorMsgs.JointState.self, topic: statesTopic)
        guard let first = raw.first else {
            throw TetherError("the recording has no joint-state messages on \(statesTopic)", at: path, hint: "record the experiment again")
        }
        let imuRaw = try imuTopicUsed.map { try reader.messages(SensorMsgs.Imu.self, topic: $0) } ?? []
        // One time base for the whole recording, so that topics stay aligned.
        let problem = Self.headerStampProblem(raw.map(\.message.header.stamp.nanoseconds), topic: statesTopic)
            ?? imuTopicUsed.flatMap { Self.headerStampProblem(imuRaw.map(\.message.header.stamp.nanoseconds), topic: $0) }
        let useHeader = problem == nil
        if let problem {
            notes.append("\(path): time base: log times (when the recorder received each message), since \(problem)")
        } else if metadata["kind"] == nil {
            notes.append("\(path): time base: header stamps (the sensor's time)")
        }
        func seconds(_ stamp: BuiltinInterfaces.Time, _ logTime: UInt64) -> Double {
            useHeader ? Double(stamp.nanoseconds) * 1e-9 : Double(logTime) * 1e-9
        }
        guard first.message.position.count == first.message.name.count else {
            throw TetherError("the joint states on \(statesTopic) carry \(first.message.position.count) positions for \(first.message.name.count) joint "
                + "names", at: path,
                              hint: "calibration needs a position per named joint; record the topic the joint driver publishes positions on")
        }
        let map = try jointMap(first.message.name, source: path)
        let extra = first.message.name.filter { !jointNames.contains($0) }
        if !extra.isEmpty {
            notes.append("\(path): joint\(extra.count == 1 ? "" : "s") not in the manifest, ignored: \(extra.joined(separator: ", "))")
        }
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
        if let imuTopicUsed {
            for (logTime, m) in imuRaw {
                let o = m.orientation
                imu.append(.init(time: seconds(m.header.stamp, logTime) - t0,
                                 angularVelocity: SIMD3(m.angularVelocity.x, m.angularVelocity.y, m.angularVelocity.z),
                                 linearAcceleration: SIMD3(m.linearAcceleration.x, m.linearAcceleration.y, m.linearAcceleration.z),
                                 orientation: SIMD4(o.w, o.x, o.y, o.z)))
            }
            imu = clean(imu, source: path, what: "IMU samples", time: \.time)
            if imu.isEmpty { warnings.append("\(path): no IMU messages on \(imuTopicUsed)") }
        } else if metadata["kind"] == nil {
            notes.append("\(path): no IMU (no \(imuTopic), nor any sensor_msgs/msg/Imu topic): joint noise only")
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
