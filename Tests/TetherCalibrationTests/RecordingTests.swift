import Testing
import TetherCore
@testable import TetherCalibration

@Suite struct RecordingTests {
    @Test func seriesAndJointLookup() throws {
        let r = ExperimentRecording(source: "x.mcap", jointNames: ["a", "b"],
                                    states: [.init(time: 0, positions: [1, 2], velocities: [0, 0], efforts: []),
                                             .init(time: 0.1, positions: [3, 4], velocities: [0, 0], efforts: [])],
                                    commands: [])
        #expect(try r.jointIndex("b") == 1)
        #expect(throws: TetherError.self) { try r.jointIndex("c") }
        let s = r.series(joint: 1, \.positions)
        #expect(s.times == [0, 0.1] && s.values == [2, 4])
        #expect(r.series(joint: 0, \.efforts).values.isEmpty)
    }
}
