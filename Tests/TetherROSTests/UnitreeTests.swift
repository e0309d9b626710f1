import Foundation
import Testing
import TetherCore
@testable import TetherROS

// Unitree's low-level messages against the vendor's own Python SDK (unitree_sdk2 1.0.1: its IDL
// classes, its CRC helper) through tests/peers/unitree_peer.py: bytes, CRCs, and both directions
// over loopback DDS.

// MARK: the peer's view of the messages (IDL field names, nested objects)

extension UnitreeGoMsgs.MotorCmd: PeerValue {
    var peer: JSON {
        .object([("mode", .int(Int(mode))), ("q", .float(q)), ("dq", .float(dq)), ("tau", .float(tau)), ("kp", .float(kp)),
                 ("kd", .float(kd)), ("reserve", .ints(reserve))])
    }
}
extension UnitreeGoMsgs.MotorState: PeerValue {
    var peer: JSON {
        .object([("mode", .int(Int(mode))), ("q", .float(q)), ("dq", .float(dq)), ("ddq", .float(ddq)), ("tau_est", .float(tauEst)),
                 ("q_raw", .float(qRaw)), ("dq_raw", .float(dqRaw)), ("ddq_raw", .float(ddqRaw)), ("temperature", .int(Int(temperature))),
                 ("lost", .int(Int(lost))), ("reserve", .ints(reserve))])
    }
}
extension UnitreeGoMsgs.IMUState: PeerValue {
    var peer: JSON {
        .object([("quaternion", .floats(quaternion)), ("gyroscope", .floats(gyroscope)), ("accelerometer", .floats(accelerometer)),
                 ("rpy", .floats(rpy)), ("temperature", .int(Int(temperature)))])
    }
}
extension UnitreeGoMsgs.BmsCmd: PeerValue {
    var peer: JSON { .object([("off", .int(Int(off))), ("reserve", .ints(reserve))]) }
}
extension UnitreeGoMsgs.BmsState: PeerValue {
    var peer: JSON {
        .object([("version_high", .int(Int(versionHigh))), ("version_low", .int(Int(versionLow))), ("status", .int(Int(status))),
                 ("soc", .int(Int(soc))), ("current", .int(Int(current))), ("cycle", .int(Int(cycle))), ("bq_ntc", .ints(bqNTC)),
                 ("mcu_ntc", .ints(mcuNTC)), ("cell_vol", .ints(cellVol))])
    }
}
extension UnitreeGoMsgs.LowCmd: PeerValue {
    var peer: JSON {
        .object([("head", .ints(head)), ("level_flag", .int(Int(levelFlag))), ("frame_reserve", .int(Int(frameReserve))),
                 ("sn", .ints(sn)), ("version", .ints(version)), ("bandwidth", .int(Int(bandwidth))),
                 ("motor_cmd", .array(motorCmd.map(\.peer))), ("bms_cmd", bmsCmd.peer), ("wireless_remote", .ints(wirelessRemote)),
                 ("led", .ints(led)), ("fan", .ints(fan)), ("gpio", .int(Int(gpio))), ("reserve", .int(Int(reserve))), ("crc", .int(Int(crc)))])
    }
}
extension UnitreeGoMsgs.LowState: PeerValue {
    var peer: JSON {
        .object([("head", .ints(head)), ("level_flag", .int(Int(levelFlag))), ("frame_reserve", .int(Int(frameReserve))),
                 ("sn", .ints(sn)), ("version", .ints(version)), ("bandwidth", .int(Int(bandwidth))), ("imu_state", imuState.peer),
                 ("motor_state", .array(motorState.map(\.peer))), ("bms_state", bmsState.peer), ("foot_force", .ints(footForce)),
                 ("foot_force_est", .ints(footForceEst)), ("tick", .int(Int(tick))), ("wireless_remote", .ints(wirelessRemote)),
                 ("bit_flag", .int(Int(bitFlag))), ("adc_reel", .float(adcReel)), ("temperature_ntc1", .int(Int(temperatureNTC1))),
                 ("temperature_ntc2", .int(Int(temperatureNTC2))), ("power_v", .float(powerV)), ("power_a", .float(powerA)),
                 ("fan_frequency", .ints(fanFrequency)), ("reserve", .int(Int(reserve))), ("crc", .int(Int(crc)))])
    }
}
extension UnitreeHGMsgs.MotorCmd: PeerValue {
    var peer: JSON {
        .object([("mode", .int(Int(mode))), ("q", .float(q)), ("dq", .float(dq)), ("tau", .float(tau)), ("kp", .float(kp)),
                 ("kd", .float(kd)), ("reserve", .int(Int(reserve)))])
    }
}
extension UnitreeHGMsgs.MotorState: PeerValue {
    var peer: JSON {
        .object([("mode", .int(Int(mode))), ("q", .float(q)), ("dq", .float(dq)), ("ddq", .float(ddq)), ("tau_est", .float(tauEst)),
                 ("temperature", .ints(temperature)), ("vol", .float(vol)), ("sensor", .ints(sensor)),
                 ("motorstate", .int(Int(motorstate))), ("reserve", .ints(reserve))])
    }
}
extension UnitreeHGMsgs.IMUState: PeerValue {
    var peer: JSON {
        .object([("quaternion", .floats(quaternion)), ("gyroscope", .floats(gyroscope)), ("accelerometer", .floats(accelerometer)),
                 ("rpy", .floats(rpy)), ("temperature", .int(Int(temperature)))])
    }
}
extension UnitreeHGMsgs.LowCmd: PeerValue {
    var peer: JSON {
        .object([("mode_pr", .int(Int(modePR))), ("mode_machine", .int(Int(modeMachine))), ("motor_cmd", .array(motorCmd.map(\.peer))),
                 ("reserve", .ints(reserve)), ("crc", .int(Int(crc)))])
    }
}
extension UnitreeHGMsgs.LowState: PeerValue {
    var peer: JSON {
        .object([("version", .ints(version)), ("mode_pr", .int(Int(modePR))), ("mode_machine", .int(Int(modeMachine))),
                 ("tick", .int(Int(tick))), ("imu_state", imuState.peer), ("motor_state", .array(motorState.map(\.peer))),
                 ("wireless_remote", .ints(wirelessRemote)), ("reserve", .ints(reserve)), ("crc", .int(Int(crc)))])
    }
}

extension JSON {
    /// A float32 as the double it converts to exactly (JSONEncoder keeps every bit).
    static func float(_ v: Float) -> JSON { .double(Double(v)) }
    static func floats(_ v: [Float]) -> JSON { .array(v.map { .double(Double($0)) }) }
    static func ints<T: BinaryInteger>(_ v: [T]) -> JSON { .array(v.map { .int(Int($0)) }) }
}

// MARK: random messages

extension Values {
    mutating func float() -> Float { Float(rng.gaussian(mean: 0, standardDeviation: 3)) }
    mutating func floats(_ n: Int) -> [Float] { (0..<n).map { _ in float() } }
    mutating func integer<T: FixedWidthInteger>(_ type: T.Type = T.self) -> T { T.random(in: T.min...T.max, using: &rng) }
    mutating func integers<T: FixedWidthInteger>(_ n: Int, _ type: T.Type = T.self) -> [T] { (0..<n).map { _ in integer(T.self) } }
    /// A temperature byte. The SDK's CRC helper packs these uint8 fields as signed chars and so
    /// refuses values above 127; the robot's C struct (and Tether) take the raw byte.
    mutating func temperatureByte() -> UInt8 { UInt8(int(0...127)) }
    /// A fan frequency: the helper packs these uint16 as signed shorts (refusing values above
    /// 32767), the robot's C struct takes the raw bits, as Tether does.
    mutating func fanFrequencies() -> [UInt16] { (0..<4).map { _ in UInt16(int(0...32767)) } }

    mutating func goLowCmd() -> UnitreeGoMsgs.LowCmd {
        var m = UnitreeGoMsgs.LowCmd()
        m.head = integers(2); m.levelFlag = integer(); m.frameReserve = integer(); m.sn = integers(2); m.version = integers(2)
        m.bandwidth = integer()
        m.motorCmd = (0..<20).map { _ in
            var c = UnitreeGoMsgs.MotorCmd()
            c.mode = integer(); c.q = float(); c.dq = float(); c.tau = float(); c.kp = float(); c.kd = float(); c.reserve = integers(3)
            return c
        }
        m.bmsCmd.off = integer(); m.bmsCmd.reserve = integers(3)
        m.wirelessRemote = integers(40); m.led = integers(12); m.fan = integers(2); m.gpio = integer(); m.reserve = integer()
        m.crc = integer()
        return m
    }

    mutating func goLowState() -> UnitreeGoMsgs.LowState {
        var m = UnitreeGoMsgs.LowState()
        m.head = integers(2); m.levelFlag = integer(); m.frameReserve = integer(); m.sn = integers(2); m.version = integers(2)
        m.bandwidth = integer()
        m.imuState.quaternion = floats(4); m.imuState.gyroscope = floats(3); m.imuState.accelerometer = floats(3); m.imuState.rpy = floats(3)
        m.imuState.temperature = temperatureByte()
        m.motorState = (0..<20).map { _ in
            var s = UnitreeGoMsgs.MotorState()
            s.mode = integer(); s.q = float(); s.dq = float(); s.ddq = float(); s.tauEst = float(); s.qRaw = float(); s.dqRaw = float()
            s.ddqRaw = float(); s.temperature = temperatureByte(); s.lost = integer(); s.reserve = integers(2)
            return s
        }
        m.bmsState.versionHigh = integer(); m.bmsState.versionLow = integer(); m.bmsState.status = integer(); m.bmsState.soc = integer()
        m.bmsState.current = integer(); m.bmsState.cycle = integer()
        m.bmsState.bqNTC = [temperatureByte(), temperatureByte()]; m.bmsState.mcuNTC = [temperatureByte(), temperatureByte()]
        m.bmsState.cellVol = integers(15)
        m.footForce = integers(4); m.footForceEst = integers(4); m.tick = integer(); m.wirelessRemote = integers(40); m.bitFlag = integer()
        m.adcReel = float(); m.temperatureNTC1 = temperatureByte(); m.temperatureNTC2 = temperatureByte(); m.powerV = float()
        m.powerA = float(); m.fanFrequency = fanFrequencies(); m.reserve = integer(); m.crc = integer()
        return m
    }

    mutating func hgLowCmd() -> UnitreeHGMsgs.LowCmd {
        var m = UnitreeHGMsgs.LowCmd()
        m.modePR = integer(); m.modeMachine = integer()
        m.motorCmd = (0..<35).map { _ in
            var c = UnitreeHGMsgs.MotorCmd()
            c.mode = integer(); c.q = float(); c.dq = float(); c.tau = float(); c.kp = float(); c.kd = float(); c.reserve = integer()
            return c
        }
        m.reserve = integers(4); m.crc = integer()
        return m
    }

    mutating func hgLowState() -> UnitreeHGMsgs.LowState {
        var m = UnitreeHGMsgs.LowState()
        m.version = integers(2); m.modePR = integer(); m.modeMachine = integer(); m.tick = integer()
        m.imuState.quaternion = floats(4); m.imuState.gyroscope = floats(3); m.imuState.accelerometer = floats(3); m.imuState.rpy = floats(3)
        m.imuState.temperature = integer()
        m.motorState = (0..<35).map { _ in
            var s = UnitreeHGMsgs.MotorState()
            s.mode = integer(); s.q = float(); s.dq = float(); s.ddq = float(); s.tauEst = float(); s.temperature = integers(2)
            s.vol = float(); s.sensor = integers(2); s.motorstate = integer(); s.reserve = integers(4)
            return s
        }
        m.wirelessRemote = integers(40); m.reserve = integers(4); m.crc = integer()
        return m
    }
}

// MARK: the peer

struct UnitreeEncoded: Decodable {
    var cdr: String
    var crc: UInt32?
}

/// Runs tests/peers/unitree_peer.py (the vendor's SDK) with a request passed through a file.
func unitreePeer(_ request: JSON) throws -> Data {
    let python = "\(repositoryRoot)/.venv/bin/python"
    guard FileManager.default.isExecutableFile(atPath: python) else {
        throw TetherError("the project venv is missing; the Unitree peer tests need it", at: python, hint: "run scripts/setup.sh")
    }
    let requestPath = temporaryPath("unitree-request.json")
    defer { try? FileManager.default.removeItem(atPath: requestPath) }
    try JSONEncoder().encode(request).write(to: URL(fileURLWithPath: requestPath))
    let output = try TetherPaths.run(python, ["\(repositoryRoot)/tests/peers/unitree_peer.py", "@\(requestPath)"])
    return Data(output.utf8)
}

/// The SDK's serialization and CRC of each message.
func sdkEncodings(_ messages: [(type: String, value: any PeerValue)]) throws -> [UnitreeEncoded] {
    let request = JSON.object([("op", .string("encode")),
                               ("messages", .array(messages.map { .object([("type", .string($0.type)), ("fields", $0.value.peer)]) }))])
    struct Answer: Decodable { var encoded: [UnitreeEncoded] }
    return try JSONDecoder().decode(Answer.self, from: unitreePeer(request)).encoded
}

@Suite(.serialized) struct UnitreeMessageTests {
    /// The CDR of every Unitree message type has the one size its fixed arrays give it, and the
    /// packed C struct the size the vendor's CRC helper documents.
    @Test func unitreeMessagesHaveTheirFixedSizes() {
        #expect(UnitreeGoMsgs.LowCmd().cdrBytes().count == 812)
        #expect(UnitreeGoMsgs.LowCmd().packedBytes.count == 812)
        #expect(UnitreeGoMsgs.LowState().packedBytes.count == 1180)
        #expect(UnitreeHGMsgs.LowCmd().packedBytes.count == 1004)
        #expect(UnitreeHGMsgs.LowState().packedBytes.count == 2092)
        #expect(UnitreeHGMsgs.LowCmd().cdrBytes().count == 1004)
        #expect(DDSParticipant.ddsTypeName(UnitreeGoMsgs.LowCmd.self) == "unitree_go::msg::dds_::LowCmd_")
        #expect(DDSParticipant.ddsTypeName(UnitreeHGMsgs.LowState.self) == "unitree_hg::msg::dds_::LowState_")
        #expect(DDSParticipant.ddsTopicName(UnitreeTopics.lowCmd) == "rt/lowcmd")
        #expect(DDSParticipant.ddsTopicName(UnitreeTopics.lowState) == "rt/lowstate")
    }

    /// Fixed vectors from the SDK's helper (all-zero messages), so a regression shows without the venv.
    @Test func unitreeCRCOfBlankCommands() {
        #expect(UnitreeGoMsgs.LowCmd().expectedCRC == 0x4B5A_4880)
        #expect(UnitreeHGMsgs.LowCmd().expectedCRC == 0xFE17_2F9F)
        #expect(UnitreeCRC.checksum(words: []) == 0xFFFF_FFFF)
    }

    /// The table-driven CRC equals the bit-by-bit definition (shift, add the polynomial for the
    /// top bit, then for the data bit), word by word.
    @Test func unitreeCRCTableMatchesBitwiseDefinition() {
        func bitwise(_ words: [UInt32]) -> UInt32 {
            var crc: UInt32 = 0xFFFF_FFFF
            for word in words {
                for bit in (0..<32).reversed() {
                    crc = crc & 0x8000_0000 != 0 ? (crc << 1) ^ 0x04C1_1DB7 : crc << 1
                    if (word >> UInt32(bit)) & 1 == 1 { crc ^= 0x04C1_1DB7 }
                }
            }
            return crc
        }
        var values = Values(seed: 19)
        for n in [0, 1, 2, 7, 64] {
            let words: [UInt32] = values.integers(n)
            #expect(UnitreeCRC.checksum(words: words) == bitwise(words))
        }
    }

    /// Our CDR bytes equal the SDK's serialization of the same random messages, our decoding of
    /// the SDK's bytes gives the message back, and our CRC equals the SDK's CRC helper.
    @Test func unitreeBytesAndCRCsMatchTheVendorSDK() throws {
        var values = Values(seed: 2026)
        let goCmds = (0..<4).map { _ in values.goLowCmd() }
        let goStates = (0..<4).map { _ in values.goLowState() }
        let hgCmds = (0..<4).map { _ in values.hgLowCmd() }
        let hgStates = (0..<4).map { _ in values.hgLowState() }
        var messages: [(type: String, value: any PeerValue)] = []
        messages += goCmds.map { ("go.LowCmd", $0) }
        messages += goStates.map { ("go.LowState", $0) }
        messages += hgCmds.map { ("hg.LowCmd", $0) }
        messages += hgStates.map { ("hg.LowState", $0) }
        let sdk = try sdkEncodings(messages)
        try #require(sdk.count == messages.count)
        func check<M: UnitreeCheckedMessage>(_ ours: [M], _ theirs: ArraySlice<UnitreeEncoded>) throws {
            for (message, encoded) in zip(ours, theirs) {
                #expect(hex(message.cdrBytes()) == encoded.cdr, "\(M.typeName): CDR bytes differ from the SDK's")
                #expect(message.expectedCRC == encoded.crc, "\(M.typeName): CRC differs from the SDK's")
                #expect(message.packedBytes.withUnsafeBytes { UnitreeCRC.checksum(packed: $0) } == encoded.crc, "\(M.typeName): over the bytes")
                #expect(try M(cdrBytes: bytes(hex: encoded.cdr)) == message, "\(M.typeName): decoding the SDK's bytes")
                #expect(message.sealed().hasValidCRC && (message.crc == message.expectedCRC) == message.hasValidCRC)
            }
        }
        try check(goCmds, sdk[0..<4])
        try check(goStates, sdk[4..<8])
        try check(hgCmds, sdk[8..<12])
        try check(hgStates, sdk[12..<16])
    }

    /// The nested types alone serialize as the SDK's do.
    @Test func unitreeNestedTypesMatchTheVendorSDK() throws {
        var values = Values(seed: 7)
        let go = values.goLowState(), goCmd = values.goLowCmd(), hg = values.hgLowState(), hgCmd = values.hgLowCmd()
        let messages: [(type: String, value: any PeerValue)] = [
            ("go.MotorCmd", goCmd.motorCmd[3]), ("go.MotorState", go.motorState[5]), ("go.IMUState", go.imuState),
            ("go.BmsCmd", goCmd.bmsCmd), ("go.BmsState", go.bmsState), ("hg.MotorCmd", hgCmd.motorCmd[30]),
            ("hg.MotorState", hg.motorState[34]), ("hg.IMUState", hg.imuState),
        ]
        let ours: [[UInt8]] = [goCmd.motorCmd[3].cdrBytes(), go.motorState[5].cdrBytes(), go.imuState.cdrBytes(), goCmd.bmsCmd.cdrBytes(),
                               go.bmsState.cdrBytes(), hgCmd.motorCmd[30].cdrBytes(), hg.motorState[34].cdrBytes(), hg.imuState.cdrBytes()]
        let sdk = try sdkEncodings(messages)
        try #require(sdk.count == ours.count)
        for (i, encoded) in sdk.enumerated() { #expect(hex(ours[i]) == encoded.cdr, "\(messages[i].type)") }
    }

    /// Truncated bytes are a clear error naming the type, never a crash.
    @Test func unitreeTruncatedStateIsAClearError() {
        let bytes = Array(UnitreeGoMsgs.LowState().cdrBytes().prefix(600))
        #expect {
            _ = try UnitreeGoMsgs.LowState(cdrBytes: bytes)
        } throws: { error in
            "\(error)".contains("unitree_go/msg/LowState") && "\(error)".contains("truncated")
        }
    }

    /// Arrays set to the wrong length after construction are padded or cut on the wire, so every
    /// message keeps its fixed size.
    @Test func unitreeWrongLengthArraysKeepTheFixedSize() throws {
        var m = UnitreeGoMsgs.LowCmd()
        m.motorCmd = [UnitreeGoMsgs.MotorCmd()]
        m.wirelessRemote = Array(repeating: 1, count: 50)
        #expect(m.cdrBytes().count == 812 && m.packedBytes.count == 812)
        let back = try UnitreeGoMsgs.LowCmd(cdrBytes: m.cdrBytes())
        #expect(back.motorCmd.count == 20 && back.wirelessRemote == Array(repeating: 1, count: 40))
    }
}

// MARK: over DDS, both directions

/// The peer's answer to an exchange.
struct UnitreeExchange: Decodable {
    struct Command: Decodable {
        var crc_ok: Bool
        var crc: UInt32
        var expected: UInt32
    }
    var commands: [Command]
    var states_sent: Int
}

@Suite(.serialized) struct UnitreeDDSTests {
    func waitFor(timeout: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() > deadline { return false }
            usleep(2000)
        }
        return true
    }

    /// Starts the SDK peer for an exchange; returns the process and its stdout.
    func startPeer(_ request: JSON) throws -> (Process, Pipe, String) {
        let requestPath = temporaryPath("unitree-exchange.json")
        try JSONEncoder().encode(request).write(to: URL(fileURLWithPath: requestPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(repositoryRoot)/.venv/bin/python")
        process.arguments = ["\(repositoryRoot)/tests/peers/unitree_peer.py", "@\(requestPath)"]
        var environment = ProcessInfo.processInfo.environment
        environment["CYCLONEDDS_URI"] = DDSParticipant.loopbackConfiguration
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        return (process, out, requestPath)
    }

    /// Parses the peer's last line; the fields of every command it received as JSON objects.
    func finish(_ process: Process, _ out: Pipe) throws -> (UnitreeExchange, [[String: Any]]) {
        process.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let last = text.split(separator: "\n").last.map(String.init) ?? ""
        let exchange = try JSONDecoder().decode(UnitreeExchange.self, from: Data(last.utf8))
        let raw = try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any]
        let fields = (raw?["commands"] as? [[String: Any]] ?? []).compactMap { $0["fields"] as? [String: Any] }
        return (exchange, fields)
    }

    /// Where two parsed JSON values first differ, for the failure message.
    func firstDifference(_ a: Any, _ b: Any, path: String = "") -> String {
        if let a = a as? [String: Any], let b = b as? [String: Any] {
            for key in Set(a.keys).union(b.keys).sorted() {
                guard let x = a[key], let y = b[key] else { return "\(path).\(key) missing on one side" }
                let d = firstDifference(x, y, path: "\(path).\(key)")
                if !d.isEmpty { return d }
            }
            return ""
        }
        if let a = a as? [Any], let b = b as? [Any] {
            guard a.count == b.count else { return "\(path): \(a.count) vs \(b.count) elements" }
            for (i, (x, y)) in zip(a, b).enumerated() {
                let d = firstDifference(x, y, path: "\(path)[\(i)]")
                if !d.isEmpty { return d }
            }
            return ""
        }
        return (a as? NSObject)?.isEqual(b) == true ? "" : "\(path): \(a) vs \(b)"
    }

    /// The message's peer JSON, parsed as the peer's answer is, for comparing the two.
    func parsed(_ value: any PeerValue) throws -> NSDictionary {
        try JSONSerialization.jsonObject(with: JSONEncoder().encode(value.peer)) as? NSDictionary ?? [:]
    }

    func exchange<Command: UnitreeCheckedMessage & PeerValue, State: UnitreeCheckedMessage & PeerValue>(
        protocol name: String, domain: UInt32, commands: [Command], states: [State], corrupt: Set<Int>
    ) throws {
        let participant = try DDSParticipant(domain: domain, configuration: DDSParticipant.loopbackConfiguration)
        let publisher = try UnitreeCommandPublisher<Command>(participant)
        let subscriber = try UnitreeStateSubscriber<State>(participant)
        let request = JSON.object([
            ("op", .string("exchange")), ("domain", .int(Int(domain))), ("protocol", .string(name)), ("commands", .int(commands.count)),
            ("states", .array(states.enumerated().map { .object([("fields", $1.peer), ("corrupt", .bool(corrupt.contains($0)))]) })),
            ("period", .double(0.02)), ("timeout", .double(30)),
        ])
        // States arrive on DDS's thread while we send; the corrupted ones are dropped and counted.
        let received = Locked<[State]>([])
        try subscriber.setHandler { result in
            if case .success(let sample) = result { received.withLock { $0.append(sample.message) } }
        }
        let (process, out, requestPath) = try startPeer(request)
        defer {
            if process.isRunning { process.terminate() }
            try? FileManager.default.removeItem(atPath: requestPath)
        }
        #expect(publisher.publisher.waitForSubscribers(timeout: 20), "the SDK peer never subscribed to rt/lowcmd")
        // The peer starts its states once both of its endpoints matched ours: after the first
        // one, a command we send cannot be lost to discovery.
        #expect(waitFor(timeout: 20) { subscriber.counts.accepted + subscriber.counts.rejected > 0 }, "no state from the SDK peer")
        for command in commands {
            try publisher.publish(command)
            usleep(20_000)
        }
        let expected = states.count - corrupt.count
        _ = waitFor(timeout: 20) { received.withLock { $0.count } >= expected }
        subscriber.removeHandler()
        let (answer, fields) = try finish(process, out)
        #expect(answer.commands.count == commands.count)
        for (i, command) in answer.commands.enumerated() {
            #expect(command.crc_ok, "command \(i): the SDK computes CRC \(command.expected), we sent \(command.crc)")
        }
        for (i, got) in fields.enumerated() where i < commands.count {
            let ours = try parsed(commands[i].sealed())
            #expect(NSDictionary(dictionary: got).isEqual(ours), "command \(i) as the SDK decoded it: \(firstDifference(got, ours))")
        }
        let good = states.enumerated().filter { !corrupt.contains($0.offset) }.map { $0.element.sealed() }
        #expect(received.withLock { $0 } == good, "the SDK's valid states, decoded by us with the SDK's CRC")
        #expect(subscriber.counts == .init(accepted: good.count, rejected: corrupt.count))
    }

    @Test func unitreeGoCommandsAndStatesCrossTheVendorSDK() throws {
        var values = Values(seed: 91)
        try exchange(protocol: "go", domain: 191, commands: (0..<4).map { _ in values.goLowCmd() },
                     states: (0..<6).map { _ in values.goLowState() }, corrupt: [1, 4])
    }

    @Test func unitreeHGCommandsAndStatesCrossTheVendorSDK() throws {
        var values = Values(seed: 92)
        try exchange(protocol: "hg", domain: 192, commands: (0..<4).map { _ in values.hgLowCmd() },
                     states: (0..<5).map { _ in values.hgLowState() }, corrupt: [2])
    }
}
