import Foundation
import TetherCore
import TetherPolicy
import TetherROS

/// Reads demonstrations for `tether finetune` from flight recordings and JSON Lines files.
public enum DemonstrationSource {
    /// The topic the flight recorder writes observations to.
    public static let observationTopic = "/tether/observation"
    /// The topic the flight recorder writes the policy's raw actions to.
    public static let actionTopic = "/tether/action"

    /// Reads one file: an MCAP flight recording (by its `.mcap` extension) or JSON Lines.
    public static func read(path: String) throws -> [Demonstration] {
        if path.lowercased().hasSuffix(".mcap") { return try readRecording(path: path) }
        return try Demonstration.readJSONLines(path: path)
    }

    /// Pairs `/tether/observation` and `/tether/action` messages that share a log time (the flight
    /// recorder stamps both of one control tick with the same time). Unpaired messages are skipped.
    public static func readRecording(path: String) throws -> [Demonstration] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw TetherError("recording not found", at: path, hint: "check the --demos path")
        }
        let reader = try MCAPReader(path: path)
        // A recording cut short by a crash still holds its whole chunks: read what is there.
        let observations = try reader.messages(StdMsgs.Float64MultiArray.self, topic: observationTopic)
        let actions = try reader.messages(StdMsgs.Float64MultiArray.self, topic: actionTopic)
        var actionAt: [UInt64: [Double]] = [:]
        for a in actions { actionAt[a.logTime] = a.message.data }
        let start = observations.first?.logTime ?? 0
        let pairs = observations.compactMap { o -> Demonstration? in
            guard let action = actionAt[o.logTime] else { return nil }
            let seconds = Double(o.logTime - min(start, o.logTime)) / 1e9
            return Demonstration(observation: o.message.data.map(Float.init), action: action.map(Float.init),
                                 source: "\(path) @ \(String(format: "%.3f", seconds)) s")
        }
        guard !pairs.isEmpty else {
            throw TetherError("no (observation, action) pairs: the recording has \(observations.count) \(observationTopic) and \(actions.count) "
                + "\(actionTopic) messages with no log time in common",
                              at: path, hint: "record a deployment with the flight recorder (it writes both topics each tick), or pass a JSON Lines file")
        }
        return pairs
    }
}
