import Foundation
import Testing
import TetherCore
@testable import TetherCalibration

private struct CrossCorrelationPeerRequest: Encodable {
    var op = "xcorr"
    var ta: [Double]
    var a: [Double]
    var tb: [Double]
    var b: [Double]
    var step: Double
    var kmin: Int
    var kmax: Int
}

private struct CrossCorrelationPeerAnswer: Decodable {
    var delay: Double
    var peak: Double
    var r: [Double]
}

@Suite struct LatencyTests {
    /// A smooth non-periodic command (a sum of sines at incommensurate frequencies) sampled every
    /// 2 ms, and the response 0.8 × command(t − delay) + noise sampled unevenly at ~1 kHz.
    static func signals(seed: UInt64, delay: Double = 0.0237, noise: Double = 0.05, duration: Double = 10)
        -> (commandTimes: [Double], commands: [Double], responseTimes: [Double], responses: [Double]) {
        var random = SeededRandom(seed: seed)
        let components = (0..<12).map { _ in (frequency: random.uniform(0.2, 6), phase: random.uniform(0, 2 * .pi), amplitude: random.uniform(0.2, 1)) }
        func command(_ t: Double) -> Double {
            components.reduce(0) { $0 + $1.amplitude * sin(2 * .pi * $1.frequency * t + $1.phase) }
        }
        let commandTimes = (0..<Int(duration / 0.002)).map { Double($0) * 0.002 }
        let responseTimes = jitteredTimes(rate: 1000, duration: duration, jitter: 0.0002, random: &random).map { $0 + 0.0005 }
        return (commandTimes, commandTimes.map(command), responseTimes,
                responseTimes.map { 0.8 * command($0 - delay) + random.gaussian(standardDeviation: noise) })
    }

    static func options() -> LatencyOptions {
        var options = LatencyOptions()
        options.minimumLag = -0.05
        options.maximumLag = 0.2
        return options
    }

    @Test func delayLandsOnTheTruth() throws {
        let s = Self.signals(seed: 61)
        let estimate = try LatencyAnalysis.crossCorrelation(commandTimes: s.commandTimes, commands: s.commands, responseTimes: s.responseTimes,
                                                            responses: s.responses, signal: "hip torque", source: "chirp.mcap", options: Self.options())
        #expect(estimate.delay.contains(0.0237), "\(estimate.delay)")
        #expect(abs(estimate.delay.value - 0.0237) < 0.0005)
        #expect(estimate.peakCorrelation > 0.95)
        #expect(estimate.gridStep == 0.002 || abs(estimate.gridStep - 0.001) < 1e-4)
        #expect(estimate.blockCount == 16 && estimate.jackknifeStandardError > 0)
        #expect(estimate.resolutionStandardError == 0 && estimate.peakShapeRatio > 3)
    }

    @Test func delayAgreesWithNumpy() throws {
        let s = Self.signals(seed: 67, delay: 0.0413)
        let estimate = try LatencyAnalysis.crossCorrelation(commandTimes: s.commandTimes, commands: s.commands, responseTimes: s.responseTimes,
                                                            responses: s.responses, signal: "hip torque", source: "chirp.mcap", options: Self.options())
        let h = estimate.gridStep
        let peer = try calibrationPeer(CrossCorrelationPeerRequest(ta: s.commandTimes, a: s.commands, tb: s.responseTimes, b: s.responses, step: h,
                kmin: Int((estimate.minimumLag / h).rounded()), kmax: Int((estimate.maximumLag / h).rounded())),
                                       as: CrossCorrelationPeerAnswer.self)
        #expect(relativelyClose(estimate.delay.value, peer.delay, 1e-9), "\(estimate.delay.value) vs numpy \(peer.delay)")
        #expect(relativelyClose(estimate.peakCorrelation, peer.peak, 1e-9))
        #expect(estimate.delay.contains(0.0413))
    }

    @Test func heldStepCommandsGiveACuspAndSampleResolution() throws {
        // A held command with random steps, the response sampled in step with it: the edges all
        // fall at the same point between response samples, so only the sample resolution is known.
        var random = SeededRandom(seed: 63)
        let commandTimes = (0..<3000).map { Double($0) * 0.01 }
        var level = 0.0
        let commands = commandTimes.map { _ in
            if random.uniform() < 0.05 { level = random.uniform(-1, 1) }
            return level
        }
        let held = HeldSignal(times: commandTimes, values: commands)
        let responseTimes = (0..<30000).map { Double($0) * 0.001 }
        let responses = responseTimes.map { held.value(at: $0 - 0.0312) + random.gaussian(standardDeviation: 0.01) }
        var options = Self.options()
        options.commandInterpolation = .hold
        let estimate = try LatencyAnalysis.crossCorrelation(commandTimes: commandTimes, commands: commands, responseTimes: responseTimes,
                                                            responses: responses, signal: "knee", source: "steps.mcap", options: options)
        #expect(estimate.delay.contains(0.0312), "\(estimate.delay)")
        #expect(abs(estimate.delay.value - 0.0312) < 0.001)
        #expect(estimate.peakShapeRatio < 3 && estimate.resolutionStandardError > 0.0005)
    }

    @Test func latencyRefusesAmbiguousWeakOrBadInput() {
        let s = Self.signals(seed: 64)
        // A pure sine: every period gives the same peak.
        let sine = s.commandTimes.map { sin(2 * .pi * 8 * $0) }
        let sineResponse = s.responseTimes.map { sin(2 * .pi * 8 * ($0 - 0.01)) }
        expectAnalysisError(source: "chirp.mcap", mentioning: ["'hip torque'", "ambiguous"]) {
            _ = try LatencyAnalysis.crossCorrelation(commandTimes: s.commandTimes, commands: sine, responseTimes: s.responseTimes,
                                                     responses: sineResponse, signal: "hip torque", source: "chirp.mcap", options: Self.options())
        }
        // A response unrelated to the command.
        var random = SeededRandom(seed: 65)
        let unrelated = s.responseTimes.map { _ in random.gaussian() }
        expectAnalysisError(source: "chirp.mcap", mentioning: ["'hip torque'", "peaks at only"]) {
            _ = try LatencyAnalysis.crossCorrelation(commandTimes: s.commandTimes, commands: s.commands, responseTimes: s.responseTimes,
                                                     responses: unrelated, signal: "hip torque", source: "chirp.mcap", options: Self.options())
        }
        // A delay beyond the lag window.
        let late = Self.signals(seed: 66, delay: 0.215)
        expectAnalysisError(source: "chirp.mcap", mentioning: ["edge of the lag window"]) {
            _ = try LatencyAnalysis.crossCorrelation(commandTimes: late.commandTimes, commands: late.commands, responseTimes: late.responseTimes,
                                                     responses: late.responses, signal: "hip torque", source: "chirp.mcap", options: Self.options())
        }
        expectAnalysisError(source: "chirp.mcap", mentioning: ["command is constant"]) {
            _ = try LatencyAnalysis.crossCorrelation(commandTimes: s.commandTimes, commands: s.commandTimes.map { _ in 1 }, responseTimes: s.responseTimes,
                                                     responses: s.responses, signal: "hip torque", source: "chirp.mcap", options: Self.options())
        }
        var times = s.responseTimes
        times[40] = times[39]
        expectAnalysisError(source: "chirp.mcap", mentioning: ["'response time'", "repeats"]) {
            _ = try LatencyAnalysis.crossCorrelation(commandTimes: s.commandTimes, commands: s.commands, responseTimes: times,
                                                     responses: s.responses, signal: "hip torque", source: "chirp.mcap")
        }
        var commands = s.commands
        commands[2] = .nan
        expectAnalysisError(source: "chirp.mcap", mentioning: ["'command'", "not finite"]) {
            _ = try LatencyAnalysis.crossCorrelation(commandTimes: s.commandTimes, commands: commands, responseTimes: s.responseTimes,
                                                     responses: s.responses, signal: "hip torque", source: "chirp.mcap")
        }
        expectAnalysisError(source: "chirp.mcap", mentioning: ["'command'", "at least 10"]) {
            _ = try LatencyAnalysis.crossCorrelation(commandTimes: [0, 1], commands: [0, 1], responseTimes: s.responseTimes,
                                                     responses: s.responses, signal: "hip torque", source: "chirp.mcap")
        }
    }
}
