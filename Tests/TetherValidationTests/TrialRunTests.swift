import Foundation
import TetherNumerics
import Testing
import TetherCore
import TetherPolicy
import TetherSim
@testable import TetherValidation

private let gapRepositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

@Suite struct TrialRunTests {
    @Test func shortEmulatorTrialsRunTheFullRuntimeAndRecord() throws {
        let model = try BuiltinRobots.load("quadruped")
        let policyPath = "\(gapRepositoryRoot)/policies/quadruped.onnx"
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tether-trials-\(UUID().uuidString)").path
        let plan = try TrialPlan(backend: .emulator, truth: "typical", count: 2, seconds: 6, seed: 7, successDistance: 1,
                                 recordingFolder: folder, stage: .full)
        var seen: [Int] = []
        let records = try plan.run(robot: model, policyName: policyPath,
                                   makePolicy: { try OnnxPolicy(path: policyPath, manifest: model.manifest) }) { seen.append($0.trial) }
        #expect(seen == [0, 1])
        #expect(records.count == 2)
        #expect(records[0].seed != records[1].seed)
        #expect(records[0].seed == plan.trialSeed(0))
        for r in records {
            #expect(r.backend == .emulator && r.truth == "typical" && r.stage == 1)
            #expect(r.requiredDistance == 1)
            #expect(r.success == (r.failureMode == "success"))
            #expect(r.success == (r.distance >= 1 && r.stopReason == nil && r.failureMode != "fall"))
            #expect(["success", "fall", "no_progress"].contains(r.failureMode) || r.failureMode.hasPrefix("safety_stop:"))
            // The policy runs from 3.0 s to 4.5 s unless a stop comes first.
            #expect(r.episodeSeconds > 0 && r.episodeSeconds <= 1.5 + 0.05)
            #expect(r.distance.isFinite)
            #expect(try #require(r.torqueMargin) <= 1)
            #expect(try #require(r.velocityMargin) <= 1)
            #expect(r.trackingError != nil)
            let share = try #require(r.oscillation)
            #expect(share >= 0 && share <= 1)
            let recording = try #require(r.recording)
            #expect(FileManager.default.fileExists(atPath: recording))
        }
        // Same seed, same trial: the same record (the run is reproducible).
        let again = try plan.runOne(trial: 1, robot: model, policyName: policyPath,
                                    policy: try OnnxPolicy(path: policyPath, manifest: model.manifest))
        #expect(again.distance == records[1].distance)
        #expect(again.failureMode == records[1].failureMode)
    }

    @Test func plansRefuseWhatCannotRun() {
        #expect(throws: TetherError.self) { try RobotBackend(parsing: "gazebo") }
        #expect(throws: TetherError.self) { try TrialPlan(backend: .ros2, count: 1).runOne(trial: 0, robot: try BuiltinRobots.load("quadruped"),
                policyName: "p", policy: NativePolicy(PolicyNetwork(mlp: MLP(sizes: [48, 12])))) }
        #expect(throws: TetherError.self) { try TrialPlan(backend: .sim, count: 0) }
        #expect(throws: TetherError.self) { try TrialPlan(backend: .sim, count: 2, seconds: 3) }
    }

    @Test func requiredDistanceScalesTheTaskToThePolicyTime() throws {
        let task = Manifest.Task(kind: .walk, episodeSeconds: 30, command: SIMD3(0.5, 0, 0), successDistance: 10)
        let plan = try TrialPlan(backend: .sim, count: 1, seconds: 15)
        // Policy from 3.0 s to 13.5 s: 10.5 s of the task's 30 s.
        #expect(abs(plan.requiredDistance(task: task) - 3.5) < 1e-12)
        let long = try TrialPlan(backend: .sim, count: 1, seconds: 60)
        #expect(long.requiredDistance(task: task) == 10)
    }
}

@Suite struct GapAttributionTests {
    @Test func settingAGroupNominalLeavesTheOthers() throws {
        let truth = try Truth.preset("typical", seed: 3)
        let physics = GapAttribution.settingNominal(["physics"], in: truth)
        #expect(physics.physics == Truth.Physics())
        #expect(physics.actuators == truth.actuators && physics.sensors == truth.sensors && physics.link == truth.link)
        let all = GapAttribution.settingNominal(Set(GapAttribution.groups), in: truth)
        #expect(all.physics == .init() && all.actuators == .init() && all.sensors == .init() && all.link == .init())
        #expect(all.seed == 3)
    }

    @Test func settingOneTruthMemberNominalLeavesTheRest() throws {
        let truth = try Truth.preset("typical", seed: 3)
        let payload = try GapAttribution.settingNominal(members: ["physics.payload"], in: truth)
        #expect(payload.physics.payload == 0 && payload.physics.massScale == truth.physics.massScale)
        #expect(payload.actuators == truth.actuators && payload.sensors == truth.sensors && payload.link == truth.link)
        let two = try GapAttribution.settingNominal(members: ["actuators.lag", "link.latency"], in: truth)
        #expect(two.actuators.lagTimeConstant == 0 && two.actuators.deadTime == truth.actuators.deadTime && two.link.latency == 0)
        // Every member, one at a time, together equal the whole group set back.
        for group in GapAttribution.groups {
            let all = try GapAttribution.settingNominal(members: Set(GapAttribution.truthMembers(of: group)), in: truth)
            #expect(all == GapAttribution.settingNominal([group], in: truth), "\(group)'s members cover the group")
        }
        #expect(try GapAttribution.differingMembers(of: "physics", in: truth) == GapAttribution.truthMembers(of: "physics"))
        let mild = try Truth.preset("mild", seed: 3)
        #expect(try !GapAttribution.differingMembers(of: "physics", in: mild).contains("physics.payload"), "mild carries no payload")
        #expect(throws: TetherError.self) { try GapAttribution.settingNominal(members: ["physics.gravity"], in: truth) }
    }

    @Test func attributionRunsEachGroupAndRoundTrips() throws {
        let model = try BuiltinRobots.load("quadruped")
        let policyPath = "\(gapRepositoryRoot)/policies/quadruped.onnx"
        let plan = try TrialPlan(backend: .emulator, truth: "typical", count: 1, seconds: 6, seed: 2, successDistance: 1, stage: .full)
        var groups: [String] = []
        let attribution = try GapAttribution.run(plan: plan, robot: model, policyName: policyPath,
                                                 makePolicy: { try OnnxPolicy(path: policyPath, manifest: model.manifest) }) { g, _ in groups.append(g) }
        #expect(groups == GapAttribution.groups)
        #expect(attribution.entries.map(\.nominal) == ["none"] + GapAttribution.groups)
        #expect(attribution.entries[0].changePercentagePoints == 0 && attribution.entries[0].fisherP == 1)
        for e in attribution.entries { #expect(e.trials == 1 && e.fisherP >= 0 && e.fisherP <= 1) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("attribution-\(UUID().uuidString).json").path
        try attribution.json().write(to: URL(fileURLWithPath: path))
        let back = try GapAttribution.read(path: path)
        #expect(back.entries.map(\.successes) == attribution.entries.map(\.successes))
        // The report shows it, and its JSON twin decodes back with it.
        let record = TrialRecord(trial: 0, robot: "quadruped", policy: "p", backend: .sim, seed: 1, success: true, failureMode: "success",
                                 distance: 2, requiredDistance: 1, episodeSeconds: 1.5, score: 1.3)
        var gap = try GapReport(sim: [record], real: [record], simSource: "a", realSource: "b")
        #expect(gap.missing.first?.contains("not given") == true)
        gap.attributions = [back]
        #expect(gap.html().render().contains("Gap attribution (virtual robot&#39;s truth)"))
        let decoded = try JSONDecoder().decode(GapReport.self, from: gap.json())
        #expect(decoded.attributions?.first?.entries.count == 5)
        #expect(decoded.attributions?.first?.isCalibration == false)
        #expect(decoded.success.fisherP == 1)
        #expect(throws: TetherError.self) { try GapAttribution.run(plan: try TrialPlan(backend: .sim, count: 1), robot: model, policyName: policyPath,
                                                                   makePolicy: { try OnnxPolicy(path: policyPath, manifest: model.manifest) }) }
    }
}

@Suite struct TrialTallyTests {
    private func record(_ trial: Int, _ mode: String, distance: Double, interventions: [String: Int] = [:]) -> TrialRecord {
        TrialRecord(trial: trial, robot: "quadruped", policy: "p", backend: .sim, seed: UInt64(trial), success: mode == "success", failureMode: mode,
                    distance: distance, requiredDistance: 1, episodeSeconds: 1, score: distance, interventions: interventions)
    }

    @Test func tallyCountsWhatEverySummaryUses() {
        let records = [record(0, "success", distance: 2), record(1, "fall", distance: 0.5, interventions: ["tilt": 1]),
                       record(2, "success", distance: 3, interventions: ["tilt": 2, "torque_bound": 5]), record(3, "no_progress", distance: 0.5)]
        let t = TrialTally(records)
        #expect(t.trials == 4 && t.successes == 2 && t.rate == 0.5 && t.meanDistance == 1.5)
        #expect(t.wilson == ConfidenceInterval.wilson(successes: 2, trials: 4))
        #expect(t.outcomes == ["success": 2, "fall": 1, "no_progress": 1] && t.failureModes == ["fall": 1, "no_progress": 1])
        #expect(t.interventions == ["tilt": 3, "torque_bound": 5])
        let other = TrialTally((0..<8).map { record($0, "success", distance: 2) })
        #expect(t.fisherP(against: other) == HypothesisTests.fisherExact(2, 2, 8, 0))
        #expect(t.change(from: other) == -50)
        let empty = TrialTally([])
        #expect(empty.trials == 0 && empty.rate == 0 && empty.meanDistance == 0)
        // The redeployment comparison is built from the same numbers.
        let c = RedeployComparison(before: records, after: (0..<4).map { record($0, "success", distance: 2.5) }, truth: "typical")
        #expect(c.beforeSuccesses == 2 && c.afterSuccesses == 4 && c.change == 50 && c.afterMeanDistance == 2.5)
        #expect(c.fisherP == HypothesisTests.fisherExact(2, 2, 4, 0))
    }
}
