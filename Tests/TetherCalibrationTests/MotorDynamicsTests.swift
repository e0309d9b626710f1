import Foundation
import Testing
import TetherCore
@testable import TetherCalibration

@Suite struct MotorDynamicsTests {
    /// Torque steps through y' = (K u(t − d) − y)/T, integrated in 1 µs steps (independently of
    /// the library's exact simulation), sampled at ~1 kHz with jitter and noise.
    static func torqueSteps(seed: UInt64, levels: [Double] = [0, 5, -3, 2], noise: Double = 0.02, timeConstant: Double = 0.015,
                            deadTime: Double = 0.004, gain: Double = 0.95)
        -> (commandTimes: [Double], commands: [Double], times: [Double], responses: [Double]) {
        var random = SeededRandom(seed: seed)
        // Commands every 2 ms; the level changes at 0.1, 0.35, 0.6 s.
        let commandTimes = (0..<500).map { Double($0) * 0.002 }
        let commands = commandTimes.map { t in levels[min(levels.count - 1, t < 0.1 ? 0 : 1 + Int((t - 0.1) / 0.25))] }
        func command(at t: Double) -> Double {
            let k = Int((t / 0.002).rounded(.down))
            return commands[max(0, min(commands.count - 1, k))]
        }
        let times = jitteredTimes(rate: 1000, duration: 1, jitter: 0.0002, random: &random).map { max($0, 0) }
        var responses: [Double] = []
        var y = 0.0, now = 0.0
        let h = 1e-6
        for t in times {
            while now < t {
                let step = min(h, t - now)
                let u = gain * command(at: now + 0.5 * step - deadTime)
                y = u + (y - u) * exp(-step / timeConstant)
                now += step
            }
            responses.append(y + random.gaussian(standardDeviation: noise))
        }
        return (commandTimes, commands, times, responses)
    }

    @Test func firstOrderDeadTimeLandsOnTheTruth() throws {
        let data = Self.torqueSteps(seed: 46)
        let fit = try MotorDynamicsAnalysis.fitFirstOrderDeadTime(commandTimes: data.commandTimes, commands: data.commands,
                                                                  responseTimes: data.times, responses: data.responses,
                                                                  joint: "knee", source: "steps.mcap")
        #expect(fit.timeConstant.contains(0.015), "\(fit.timeConstant)")
        #expect(fit.deadTime.contains(0.004), "\(fit.deadTime)")
        #expect(fit.gain.contains(0.95), "\(fit.gain)")
        #expect(abs(fit.timeConstant.value - 0.015) < 0.001 && abs(fit.deadTime.value - 0.004) < 0.0005)
        #expect(abs(fit.gridDeadTime - 0.004) < 0.001 && abs(fit.gridTimeConstant - 0.015) < 0.002)
        #expect(abs(fit.quality.residualStandardDeviation - 0.02) < 0.003)
        #expect(fit.largestStep == 8 && fit.stepToNoise > 100)
        // The classic reading of the largest step agrees roughly.
        let step = try #require(fit.stepResponse, "\(fit.stepResponseNote ?? "")")
        #expect(abs(step.stepTime - 0.35) < 1e-9 && step.stepSize == -8)
        #expect(step.riseTime63.contains(0.019), "\(step.riseTime63)")
        #expect(abs(step.timeConstant.value - 0.015) < 0.004 && abs(step.deadTime.value - 0.004) < 0.003)
        #expect(abs(step.finalLevel - (-3 * 0.95)) < 0.01)
    }

    @Test func unitGainFitWhenTheGainIsKnown() throws {
        let data = Self.torqueSteps(seed: 42, gain: 1)
        var options = MotorDynamicsOptions()
        options.fitGain = false
        let fit = try MotorDynamicsAnalysis.fitFirstOrderDeadTime(commandTimes: data.commandTimes, commands: data.commands,
                                                                  responseTimes: data.times, responses: data.responses,
                                                                  joint: "knee", source: "steps.mcap", options: options)
        #expect(fit.gain.value == 1 && fit.gain.standardError == 0)
        #expect(fit.timeConstant.contains(0.015) && fit.deadTime.contains(0.004))
        #expect(fit.covariance.count == 3)
    }

    @Test func motorDynamicsRefusesBadInput() {
        let data = Self.torqueSteps(seed: 43)
        // A step lost in the noise.
        let small = Self.torqueSteps(seed: 44, levels: [0, 0.05, -0.03, 0.02], noise: 0.02)
        expectAnalysisError(source: "steps.mcap", mentioning: ["'knee'", "noise"]) {
            _ = try MotorDynamicsAnalysis.fitFirstOrderDeadTime(commandTimes: small.commandTimes, commands: small.commands,
                                                                responseTimes: small.times, responses: small.responses,
                                                                joint: "knee", source: "steps.mcap")
        }
        expectAnalysisError(source: "steps.mcap", mentioning: ["'knee'", "noise"]) {
            _ = try MotorDynamicsAnalysis.stepResponse(commandTimes: small.commandTimes, commands: small.commands,
                                                       responseTimes: small.times, responses: small.responses,
                                                       joint: "knee", source: "steps.mcap")
        }
        expectAnalysisError(source: "steps.mcap", mentioning: ["never changes"]) {
            _ = try MotorDynamicsAnalysis.fitFirstOrderDeadTime(commandTimes: data.commandTimes, commands: data.commandTimes.map { _ in 1 },
                                                                responseTimes: data.times, responses: data.responses,
                                                                joint: "knee", source: "steps.mcap")
        }
        var times = data.times
        times.swapAt(100, 101)
        expectAnalysisError(source: "steps.mcap", mentioning: ["'response time'", "goes back"]) {
            _ = try MotorDynamicsAnalysis.fitFirstOrderDeadTime(commandTimes: data.commandTimes, commands: data.commands,
                                                                responseTimes: times, responses: data.responses,
                                                                joint: "knee", source: "steps.mcap")
        }
        var responses = data.responses
        responses[3] = .nan
        expectAnalysisError(source: "steps.mcap", mentioning: ["'response'", "not finite"]) {
            _ = try MotorDynamicsAnalysis.fitFirstOrderDeadTime(commandTimes: data.commandTimes, commands: data.commands,
                                                                responseTimes: data.times, responses: responses,
                                                                joint: "knee", source: "steps.mcap")
        }
        expectAnalysisError(source: "steps.mcap", mentioning: ["'response'", "at least 20"]) {
            _ = try MotorDynamicsAnalysis.fitFirstOrderDeadTime(commandTimes: data.commandTimes, commands: data.commands,
                                                                responseTimes: Array(data.times.prefix(5)), responses: Array(data.responses.prefix(5)),
                                                                joint: "knee", source: "steps.mcap")
        }
        // A dead time beyond the search window.
        var options = MotorDynamicsOptions()
        options.maximumDeadTime = 0.002
        expectAnalysisError(source: "steps.mcap", mentioning: ["search limit"]) {
            _ = try MotorDynamicsAnalysis.fitFirstOrderDeadTime(commandTimes: data.commandTimes, commands: data.commands,
                                                                responseTimes: data.times, responses: data.responses,
                                                                joint: "knee", source: "steps.mcap", options: options)
        }
        // A step window too short to settle.
        let slow = Self.torqueSteps(seed: 45, timeConstant: 0.12)
        expectAnalysisError(source: "steps.mcap", mentioning: ["still moving"]) {
            _ = try MotorDynamicsAnalysis.stepResponse(commandTimes: slow.commandTimes, commands: slow.commands,
                                                       responseTimes: slow.times, responses: slow.responses,
                                                       joint: "knee", source: "steps.mcap")
        }
    }
}
