import Foundation
import PropertyBased
import Testing
import TetherCore
import TetherPolicy
import TetherSim
@testable import TetherValidation

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// A synthetic trial: success with probability `rate` raised by a drawn "friction", from the
/// stream (seed, index) only, as the simulation's trials are.
func syntheticTrials(seed: UInt64, rate: Double) -> ([Int]) -> [GateTrial] {
    { indices in
        indices.map { i in
            var random = SeededRandom(seed: seed, stream: UInt64(i))
            let friction = random.uniform(0.5, 1.5), mass = random.uniform(0.9, 1.1)
            let success = random.uniform() < min(1, rate * (0.6 + 0.4 * friction))
            return GateTrial(index: i, success: success, failureMode: success ? "success" : (friction < 0.8 ? "slip" : "fall"),
                             distance: success ? 10 + friction : 3 * friction, seconds: success ? 20 : 5, totalReward: friction * 100,
                             parameters: ["friction": friction, "mass": mass])
        }
    }
}

func identity(trials: Int, seed: UInt64 = 7, threshold: Double = 0.9, policy: String = "p.onnx") -> GateIdentity {
    GateIdentity(robot: "synthetic", task: "coin", policy: policy, policyDigest: "fnv1a64:\(policy.count)", randomization: "r.yaml",
                 randomizationDigest: "fnv1a64:1", seed: seed, trials: trials, threshold: threshold)
}

/// Decodes what was encoded, as shards travel between machines.
func roundTrip(_ r: GateResult) throws -> GateResult {
    try JSONDecoder().decode(GateResult.self, from: JSONEncoder().encode(r))
}

func withoutWallTime(_ r: GateResult) -> GateResult { var r = r; r.wallSeconds = 0; return r }

@Suite struct ShardTests {
    @Test func shardMergeEqualsUnshardedRun() async {
        await propertyCheck(count: 60, input: Gen.int(in: 1...80), Gen.int(in: 1...9), Gen.int(in: 0...1000)) { trials, shards, seed in
            let id = identity(trials: trials, seed: UInt64(seed))
            let body = syntheticTrials(seed: UInt64(seed), rate: 0.9)
            let whole = try! ValidationGate(identity: id).run(runTrials: body)
            let parts = try! (0..<shards).map { k in
                try roundTrip(ValidationGate(identity: id, shard: GateShard(index: k, count: shards)).run(runTrials: body))
            }
            let merged = try! GateResult.merge(parts.shuffled())
            #expect(withoutWallTime(merged) == withoutWallTime(whole))
        }
    }

    @Test func shardsPartitionTheIndices() async {
        await propertyCheck(input: Gen.int(in: 0...500), Gen.int(in: 1...40)) { trials, count in
            let all = (0..<count).flatMap { try! GateShard(index: $0, count: count).indices(of: trials) }
            #expect(all == Array(0..<trials))
        }
    }

    @Test func shardSyntax() throws {
        #expect(try GateShard(parsing: "2/8") == GateShard(index: 2, count: 8))
        #expect(try GateShard(parsing: " 0 / 1 ") == GateShard(index: 0, count: 1))
        for bad in ["", "3", "a/b", "1/2/3", "8/8", "-1/4", "0/0", "1/-2", "1.5/4"] {
            #expect(throws: TetherError.self, "\(bad)") { try GateShard(parsing: bad) }
        }
    }

    @Test func mergeRejectsMismatchedMissingAndDuplicateShards() throws {
        let id = identity(trials: 30)
        let body = syntheticTrials(seed: 7, rate: 0.9)
        let a = try ValidationGate(identity: id, shard: GateShard(index: 0, count: 3)).run(runTrials: body)
        let b = try ValidationGate(identity: id, shard: GateShard(index: 1, count: 3)).run(runTrials: body)
        let c = try ValidationGate(identity: id, shard: GateShard(index: 2, count: 3)).run(runTrials: body)
        #expect(throws: Never.self) { try GateResult.merge([c, a, b]) }
        func message(_ shards: [GateResult]) -> String {
            do { _ = try GateResult.merge(shards, sources: shards.indices.map { "s\($0).json" }); return "" } catch { return "\(error)" }
        }
        #expect(message([a, c]).contains("10 of 30 trials are missing (10, 11"))
        #expect(message([a, b, b, c]).contains("appears twice, in s1.json and s2.json"))
        #expect(message([]).contains("nothing to merge"))
        var otherSeed = c; otherSeed.identity.seed = 8
        #expect(message([a, b, otherSeed]).contains("seed 7 vs 8"))
        var otherPolicy = c; otherPolicy.identity = identity(trials: 30, policy: "other.onnx")
        #expect(message([a, b, otherPolicy]).contains("policy"))
        let sequential = try ValidationGate(identity: id, sequentialBatch: 10).run(runTrials: body)
        #expect(message([sequential]).contains("sequential"))
    }

    @Test func shardedSequentialGateIsRejected() throws {
        #expect(throws: TetherError.self) { try ValidationGate(identity: identity(trials: 10), shard: GateShard(index: 0, count: 2), sequentialBatch: 5) }
        #expect(throws: TetherError.self) { try ValidationGate(identity: identity(trials: 10, threshold: 1)) }
        #expect(throws: TetherError.self) { try ValidationGate(identity: identity(trials: 0)) }
    }

    @Test func shardJSONRoundTripsThroughFiles() throws {
        let id = identity(trials: 12)
        let r = try ValidationGate(identity: id, shard: GateShard(index: 1, count: 2)).run(runTrials: syntheticTrials(seed: 7, rate: 0.9))
        let path = NSTemporaryDirectory() + "gate-shard-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try r.write(to: path)
        #expect(try GateResult.load(path: path) == r)
        #expect(r.summary.decision == .partial)
        #expect(r.trialRecords.map(\.index) == Array(6..<12))
        #expect(throws: TetherError.self) { try GateResult.load(path: "/nonexistent/shard.json") }
    }
}

@Suite struct SequentialTests {
    @Test func stopsEarlyWhenTheDecisionIsCertain() throws {
        let good = try ValidationGate(identity: identity(trials: 1000), sequentialBatch: 50).run { $0.map { GateTrial(index: $0, success: true,
                failureMode: "success", distance: 10, seconds: 20, totalReward: 1) } }
        #expect(good.summary.decision == .go)
        #expect(good.sequential?.stoppedEarly == true && good.summary.trials < 1000)
        let bad = try ValidationGate(identity: identity(trials: 1000), sequentialBatch: 50).run { $0.map { GateTrial(index: $0, success: false,
                failureMode: "fall", distance: 1, seconds: 2, totalReward: 0) } }
        #expect(bad.summary.decision == .noGo && bad.summary.trials == 50)
    }

    @Test func curtailmentStopsWhenGoIsOutOfReach() throws {
        let rule = try SequentialRule(batch: 10, trials: 100)
        // 10 failures in the first 20: even 80 more successes give 90/100, whose lower bound is below 0.9.
        #expect(rule.decide(successes: 10, done: 20, threshold: 0.9) == .noGo)
        #expect(rule.decide(successes: 20, done: 20, threshold: 0.9) == nil)
        #expect(rule.looks == 10 && abs(rule.lookConfidence - 0.995) < 1e-12)
    }

    /// Error control: at a true rate below the threshold, GO must stay rare (≤ α/2 = 2.5 %, plus
    /// the simulation's own noise).
    @Test func falseGoRateIsControlled() throws {
        var goes = 0
        let runs = 200
        for run in 0..<runs {
            let r = try ValidationGate(identity: identity(trials: 200, seed: UInt64(run)), sequentialBatch: 25).run { indices in
                indices.map { i in
                    var random = SeededRandom(seed: UInt64(run), stream: UInt64(i))
                    let ok = random.uniform() < 0.9
                    return GateTrial(index: i, success: ok, failureMode: ok ? "success" : "fall", distance: 0, seconds: 0, totalReward: 0)
                }
            }
            if r.summary.decision == .go { goes += 1 }
        }
        #expect(Double(goes) / Double(runs) <= 0.025 + 3 * (0.025 * 0.975 / Double(runs)).squareRoot())
    }

    @Test func fixedGateDecidesOnTheLowerBound() throws {
        let r = try ValidationGate(identity: identity(trials: 100, threshold: 0.9)).run { $0.map { GateTrial(index: $0, success: $0 >= 2,
                failureMode: $0 >= 2 ? "success" : "fall", distance: 0, seconds: 0, totalReward: 0) } }
        // 98/100: Clopper–Pearson lower bound 0.9296.
        #expect(r.summary.decision == .go && r.summary.clopperPearson.lower > 0.92)
        #expect(r.summary.outcomes == ["success": 98, "fall": 2])
    }
}

@Suite struct SensitivityTests {
    @Test func ranksTheParameterThatDrivesFailures() throws {
        let r = try ValidationGate(identity: identity(trials: 400)).run(runTrials: syntheticTrials(seed: 3, rate: 0.85))
        let top = try #require(r.summary.sensitivity.first)
        #expect(top.parameter == "friction" && top.correlation < -0.1)
        #expect(top.sentence.contains("low values"))
        #expect(abs(r.summary.sensitivity.last!.correlation) < abs(top.correlation))
    }

    @Test func nothingToRankWithoutFailures() throws {
        let r = try ValidationGate(identity: identity(trials: 20)).run(runTrials: syntheticTrials(seed: 3, rate: 2))
        #expect(r.summary.sensitivity.isEmpty)
        let html = r.htmlReport().render()
        #expect(html.contains("GO") && html.contains("nothing to rank"))
    }
}

@Suite struct SimulationGateTests {
    /// The cart-pole with short episodes: same records whatever the thread count and the shards.
    @Test func simulatedShardsEqualTheWholeRun() throws {
        let robot = try BuiltinRobots.load("cartpole")
        var task = try #require(robot.manifest.task)
        task.episodeSeconds = 1
        let path = "\(repositoryRoot)/policies/cartpole.onnx"
        let manifest = robot.manifest
        let spec = try RandomizationSpec.parse(yaml: """
            tether_randomization: 1
            terms:
              - {target: joint_damping, distribution: uniform, low: 0.5, high: 1.5}
              - {target: action_latency, distribution: uniform, low: 0.0, high: 0.02}
            """)
        let id = GateIdentity(robot: "cartpole", task: "short", policy: path, policyDigest: try GateIdentity.digest(ofFile: path),
                              seed: 5, trials: 7, threshold: 0.5)
        func body(threads: Int) throws -> ([Int]) throws -> [GateTrial] {
            let sim = try GateSimulation(robot: robot, task: task, randomization: spec, threads: threads)
            return { indices in try sim.run(indices: indices, seed: 5) { try OnnxPolicy(path: path, manifest: manifest) } }
        }
        let whole = try ValidationGate(identity: id).run(runTrials: body(threads: 2))
        let parts = try (0..<3).map { try ValidationGate(identity: id, shard: GateShard(index: $0, count: 3)).run(runTrials: body(threads: 1)) }
        #expect(withoutWallTime(try GateResult.merge(parts)) == withoutWallTime(whole))
        #expect(whole.trialRecords.allSatisfy { $0.parameters.keys.sorted() == ["action_latency", "joint_damping"] })
        #expect(whole.trialRecords.allSatisfy { abs($0.seconds - 1) < 0.05 || !$0.success })
    }

    /// A worker reuses one policy for all its trials: with a recurrent policy (whose state would
    /// leak from one episode into the next if the episode did not reset it), the records of one
    /// worker running every trial equal those of each trial run alone with a fresh policy, and
    /// those of two workers.
    @Test func aWorkersPolicyCarriesNothingFromOneTrialToTheNext() throws {
        let robot = try RobotModel.load(manifestPath: "\(repositoryRoot)/robots/cartpole/cartpole-blind.yaml")
        var task = try #require(robot.manifest.task)
        task.episodeSeconds = 2
        let path = "\(repositoryRoot)/tests/fixtures/cartpole-lstm.onnx"
        let manifest = robot.manifest
        let spec = try RandomizationSpec.parse(yaml: """
            tether_randomization: 1
            terms:
              - {target: joint_damping, distribution: uniform, low: 0.5, high: 1.5}
              - {target: observation_noise, distribution: uniform, low: 0.5, high: 1.5}
            """)
        let policy: @Sendable () throws -> OnnxPolicy = { try OnnxPolicy(path: path, manifest: manifest) }
        let indices = Array(0..<6)
        let oneWorker = try GateSimulation(robot: robot, task: task, randomization: spec, threads: 1).run(indices: indices, seed: 9, makePolicy: policy)
        let twoWorkers = try GateSimulation(robot: robot, task: task, randomization: spec, threads: 2).run(indices: indices, seed: 9, makePolicy: policy)
        let alone = try indices.flatMap { i in
            try GateSimulation(robot: robot, task: task, randomization: spec, threads: 1).run(indices: [i], seed: 9, makePolicy: policy)
        }
        #expect(oneWorker == alone)
        #expect(twoWorkers == alone)
        #expect(Set(alone.map(\.totalReward)).count == alone.count, "the trials differ from one another")
    }
}
