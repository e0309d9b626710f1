import Foundation
import Testing
import TetherCore
@testable import TetherCalibration

private struct FrictionPeerRequest: Encodable {
    var op = "friction"
    var velocity: [Double]
    var torque: [Double]
    var model: String
}

private struct FrictionPeerAnswer: Decodable {
    var names: [String]
    var beta: [Double]
    var covariance: [[Double]]
    var rss: Double
}

@Suite struct FrictionTests {
    /// Points of τ = Fc sign(v) + b v + τ0 with noise.
    static func linearPoints(seed: UInt64, speeds: [Double], fc: Double = 0.35, b: Double = 0.08, offset: Double = -0.05,
                             noise: Double = 0.01) -> [FrictionPoint] {
        var random = SeededRandom(seed: seed)
        return speeds.map { v in
            FrictionPoint(velocity: v, torque: fc * (v > 0 ? 1 : -1) + b * v + offset + random.gaussian(standardDeviation: noise))
        }
    }

    static let sweepSpeeds: [Double] = (1...15).flatMap { k in [0.2 * Double(k), -0.2 * Double(k)] }

    @Test func coulombViscousAndOffsetLandWithinTheirIntervals() throws {
        let points = Self.linearPoints(seed: 20, speeds: Self.sweepSpeeds)
        let fit = try FrictionAnalysis.fit(points, joint: "hip", source: "sweep.mcap")
        #expect(fit.coulomb?.contains(0.35) == true, "\(String(describing: fit.coulomb))")
        #expect(fit.viscous.contains(0.08), "\(fit.viscous)")
        #expect(fit.offset?.contains(-0.05) == true, "\(String(describing: fit.offset))")
        #expect(abs(fit.coulomb!.value - 0.35) < 0.01 && abs(fit.viscous.value - 0.08) < 0.005)
        #expect(fit.positiveCount == 15 && fit.negativeCount == 15)
        #expect(fit.stribeck == nil)
        #expect(fit.stribeckDecision.hasPrefix("Not"), "\(fit.stribeckDecision)")
        #expect((fit.quality.rSquared ?? 0) > 0.99)
        #expect(abs(fit.torque(at: 1) - (0.35 + 0.08 - 0.05)) < 0.01)
    }

    @Test func linearFitsAgreeWithNumpy() throws {
        for (seed, speeds, model) in [(22 as UInt64, Self.sweepSpeeds, CoulombModel.symmetric),
                                      (23, Self.sweepSpeeds.filter { $0 > 0 }, .symmetric),
                                      (24, Self.sweepSpeeds, .asymmetric)] {
            let points = Self.linearPoints(seed: seed, speeds: speeds)
            var options = FrictionOptions()
            options.model = model
            let fit = try FrictionAnalysis.fit(points, joint: "hip", source: "sweep.mcap", options: options)
            let peer = try calibrationPeer(FrictionPeerRequest(velocity: points.map(\.velocity), torque: points.map(\.torque),
                                                               model: model.rawValue), as: FrictionPeerAnswer.self)
            #expect(peer.names == fit.linear.names)
            for (a, b) in zip(fit.linear.values, peer.beta) { #expect(relativelyClose(a, b, 1e-9), "\(a) vs numpy \(b)") }
            for (rowA, rowB) in zip(fit.linear.covariance, peer.covariance) {
                for (a, b) in zip(rowA, rowB) { #expect(relativelyClose(a, b, 1e-9), "covariance \(a) vs numpy \(b)") }
            }
            #expect(relativelyClose(fit.linear.residualSumOfSquares, peer.rss, 1e-9))
        }
    }

    @Test func oneDirectionFoldsTheBiasIntoCoulombAndSaysSo() throws {
        let points = Self.linearPoints(seed: 25, speeds: Self.sweepSpeeds.filter { $0 > 0 })
        let fit = try FrictionAnalysis.fit(points, joint: "hip", source: "sweep.mcap")
        #expect(fit.offset == nil)
        #expect(fit.coulomb!.contains(0.35 - 0.05))
        #expect(fit.notes.contains { $0.contains("one direction") })
    }

    @Test func asymmetricCoulombLevels() throws {
        var random = SeededRandom(seed: 26)
        let points = Self.sweepSpeeds.map { v in
            FrictionPoint(velocity: v, torque: (v > 0 ? 0.4 : -0.3) + 0.06 * v + random.gaussian(standardDeviation: 0.01))
        }
        var options = FrictionOptions()
        options.model = .asymmetric
        let fit = try FrictionAnalysis.fit(points, joint: "hip", source: "sweep.mcap", options: options)
        #expect(fit.coulombPositive!.contains(0.4) && fit.coulombNegative!.contains(0.3) && fit.viscous.contains(0.06))
    }

    @Test func stribeckIsFittedWhenTheDataShowsIt() throws {
        var random = SeededRandom(seed: 27)
        let fc = 0.3, fs = 0.6, vs = 0.15, b = 0.05, offset = 0.02
        let speeds = (0..<15).map { 0.02 * pow(100, Double($0) / 14) }
        let velocities = speeds + speeds.map { -$0 }
        let points = velocities.map { v in
            let s = v > 0 ? 1.0 : -1.0
            return FrictionPoint(velocity: v, torque: s * (fc + (fs - fc) * exp(-(v / vs) * (v / vs))) + b * v + offset
                                 + random.gaussian(standardDeviation: 0.005))
        }
        let fit = try FrictionAnalysis.fit(points, joint: "hip", source: "sweep.mcap")
        let stribeck = try #require(fit.stribeck, "\(fit.stribeckDecision)")
        #expect(stribeck.coulomb.contains(fc), "\(stribeck.coulomb)")
        #expect(stribeck.staticFriction.contains(fs), "\(stribeck.staticFriction)")
        #expect(stribeck.stribeckVelocity.contains(vs), "\(stribeck.stribeckVelocity)")
        #expect(stribeck.viscous.contains(b) && stribeck.offset!.contains(offset))
        #expect(stribeck.fTestPValue < 1e-6 && stribeck.aicStribeck < stribeck.aicLinear)
        #expect(fit.stribeckDecision.hasPrefix("Fitted"))
        #expect(abs(stribeck.torque(at: 0.1) - (fc + (fs - fc) * exp(-(0.1 / vs) * (0.1 / vs)) + b * 0.1 + offset)) < 0.01)
    }

    @Test func stribeckIsNotTriedWithoutLowSpeedPoints() throws {
        let points = Self.linearPoints(seed: 28, speeds: Self.sweepSpeeds.filter { abs($0) >= 1 })
        let fit = try FrictionAnalysis.fit(points, joint: "hip", source: "sweep.mcap")
        #expect(fit.stribeck == nil)
        #expect(fit.stribeckDecision.contains("low-speed"), "\(fit.stribeckDecision)")
    }

    @Test func frictionRefusesBadPoints() {
        var points = Self.linearPoints(seed: 29, speeds: Self.sweepSpeeds)
        points[3].velocity = 0
        expectAnalysisError(source: "sweep.mcap", mentioning: ["'hip'", "velocity 0"]) {
            _ = try FrictionAnalysis.fit(points, joint: "hip", source: "sweep.mcap")
        }
        points[3].velocity = .nan
        expectAnalysisError(source: "sweep.mcap", mentioning: ["'velocity'", "not finite"]) {
            _ = try FrictionAnalysis.fit(points, joint: "hip", source: "sweep.mcap")
        }
        let oneSpeed = Self.linearPoints(seed: 30, speeds: [1, -1, 1, -1, 1, -1])
        expectAnalysisError(source: "sweep.mcap", mentioning: ["'viscous'", "same speed"]) {
            _ = try FrictionAnalysis.fit(oneSpeed, joint: "hip", source: "sweep.mcap")
        }
        let tooFew = Self.linearPoints(seed: 31, speeds: [1, -1, 2, -2])
        expectAnalysisError(source: "sweep.mcap", mentioning: ["'friction points'", "at least 5"]) {
            _ = try FrictionAnalysis.fit(tooFew, joint: "hip", source: "sweep.mcap")
        }
        var options = FrictionOptions()
        options.model = .asymmetric
        let forward = Self.linearPoints(seed: 32, speeds: [1, 2, 3, 4, 5, 6])
        expectAnalysisError(source: "sweep.mcap", mentioning: ["asymmetric", "both directions"]) {
            _ = try FrictionAnalysis.fit(forward, joint: "hip", source: "sweep.mcap", options: options)
        }
    }

    /// A velocity sweep: each commanded speed held 2 s, the joint following with a 0.05 s lag,
    /// effort = friction + inertia × acceleration + noise, at 500 Hz.
    static func sweep(seed: UInt64) -> (times: [Double], velocity: [Double], effort: [Double], commandTimes: [Double], commands: [Double]) {
        var random = SeededRandom(seed: seed)
        let commands: [Double] = [0.5, 1, -0.5, -1, 2, 0]
        let commandTimes = commands.indices.map { 2 * Double($0) }
        var times: [Double] = [], velocity: [Double] = [], effort: [Double] = []
        var v = 0.0
        let dt = 0.002
        for i in 0..<Int(12 / dt) {
            let t = Double(i) * dt
            let command = commands[min(Int(t / 2), commands.count - 1)]
            let acceleration = (command - v) / 0.05
            v += acceleration * dt
            let friction = abs(v) > 1e-3 ? 0.35 * (v > 0 ? 1 : -1) + 0.08 * v - 0.05 : -0.05
            times.append(t)
            velocity.append(v + random.gaussian(standardDeviation: 0.005))
            effort.append(friction + 0.02 * acceleration + random.gaussian(standardDeviation: 0.01))
        }
        return (times, velocity, effort, commandTimes, commands)
    }

    @Test func steadySegmentsFromCommandsFeedTheFit() throws {
        let s = Self.sweep(seed: 33)
        let extraction = try FrictionAnalysis.steadySegments(times: s.times, velocities: s.velocity, efforts: s.effort,
                                                             commandTimes: s.commandTimes, commandedVelocities: s.commands,
                                                             joint: "hip", source: "sweep.mcap")
        #expect(extraction.segments.count == 5)
        #expect(extraction.rejected.count == 1 && extraction.rejected[0].reason.contains("commanded speed"))
        for segment in extraction.segments {
            let v = segment.commandedVelocity!
            #expect(abs(segment.velocity.value - v) < 0.01)
            #expect(segment.torque.contains(0.35 * (v > 0 ? 1 : -1) + 0.08 * v - 0.05), "\(segment.torque) at \(v)")
        }
        let fit = try FrictionAnalysis.fit(extraction.points, joint: "hip", source: "sweep.mcap")
        #expect(abs(fit.coulomb!.value - 0.35) < 0.01 && abs(fit.viscous.value - 0.08) < 0.01 && abs(fit.offset!.value + 0.05) < 0.01)
        // Without commands, runs of steady measured velocity give the same windows.
        let measured = try FrictionAnalysis.steadySegments(times: s.times, velocities: s.velocity, efforts: s.effort,
                                                           joint: "hip", source: "sweep.mcap")
        #expect(measured.segments.count == 5)
        for (a, b) in zip(measured.segments, extraction.segments) { #expect(abs(a.velocity.value - b.velocity.value) < 0.01) }
    }

    @Test func steadySegmentsRefuseUnsteadyOrBadInput() {
        let s = Self.sweep(seed: 34)
        var options = SteadyStateOptions()
        options.minimumDuration = 5
        expectAnalysisError(source: "sweep.mcap", mentioning: ["'hip'", "no steady"]) {
            _ = try FrictionAnalysis.steadySegments(times: s.times, velocities: s.velocity, efforts: s.effort,
                                                    commandTimes: s.commandTimes, commandedVelocities: s.commands,
                                                    joint: "hip", source: "sweep.mcap", options: options)
        }
        var times = s.times
        times[100] = times[99]
        expectAnalysisError(source: "sweep.mcap", mentioning: ["'time'", "repeats"]) {
            _ = try FrictionAnalysis.steadySegments(times: times, velocities: s.velocity, efforts: s.effort, joint: "hip", source: "sweep.mcap")
        }
        var effort = s.effort
        effort[5] = .nan
        expectAnalysisError(source: "sweep.mcap", mentioning: ["'effort'", "not finite"]) {
            _ = try FrictionAnalysis.steadySegments(times: s.times, velocities: s.velocity, efforts: effort, joint: "hip", source: "sweep.mcap")
        }
        expectAnalysisError(source: "sweep.mcap", mentioning: ["'effort'"]) {
            _ = try FrictionAnalysis.steadySegments(times: s.times, velocities: s.velocity, efforts: Array(s.effort.dropLast()), joint: "hip",
                                                    source: "sweep.mcap")
        }
    }
}

@Suite struct FrictionCoverageTests {
    /// The 95 % intervals of the linear friction fit cover the truth about 95 % of the time.
    @Test func intervalsAreCalibrated() throws {
        var covered = [0, 0, 0]
        let trials = 200
        var options = FrictionOptions()
        options.attemptStribeck = false
        for seed in 0..<UInt64(trials) {
            let points = FrictionTests.linearPoints(seed: 10_000 + seed, speeds: FrictionTests.sweepSpeeds)
            let fit = try FrictionAnalysis.fit(points, joint: "hip", source: "sweep.mcap", options: options)
            if fit.coulomb!.contains(0.35) { covered[0] += 1 }
            if fit.viscous.contains(0.08) { covered[1] += 1 }
            if fit.offset!.contains(-0.05) { covered[2] += 1 }
        }
        for count in covered {
            let rate = Double(count) / Double(trials)
            #expect(rate > 0.9 && rate < 0.99, "coverage \(rate)")
        }
    }
}
