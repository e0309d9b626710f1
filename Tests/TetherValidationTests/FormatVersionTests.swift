import Testing
import TetherCore
@testable import TetherValidation

@Suite struct FormatVersionTests {
    /// The property protected: a file written by a newer tether (a higher format) is refused with
    /// where it is and what to do, rather than read with fields it does not understand; the
    /// current format reads back.
    @Test func trialRecordsOfANewerFormatAreRefusedWithTheLine() throws {
        let current = TrialRecord(trial: 0, robot: "cartpole", policy: "p.onnx", backend: .sim, seed: 1, success: true,
                                  failureMode: "success", distance: 0, requiredDistance: 0, episodeSeconds: 1, score: 1)
        let line = try TrialRecords.encode([current]).trimmingCharacters(in: .newlines)
        #expect(try TrialRecords.decode(line, source: "t.jsonl").count == 1)
        let newer = line.replacingOccurrences(of: "\"format\":\(TetherValidationModule.formatVersion)",
                                              with: "\"format\":\(TetherValidationModule.formatVersion + 1)")
        #expect(newer != line)
        let error = try #require(throws: TetherError.self) { try TrialRecords.decode("\n" + newer, source: "t.jsonl") }
        #expect(error.description.contains("t.jsonl:2") && error.description.contains("update tether"))
    }
}
