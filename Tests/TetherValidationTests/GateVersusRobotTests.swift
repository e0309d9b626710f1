import Foundation
import Testing
import TetherCore
@testable import TetherValidation

/// A gate result of `successes` in `trials` (merged or whole, GO / NO-GO at `threshold`).
private func gateResult(_ successes: Int, of trials: Int, threshold: Double = 0.9, robot: String = "quadruped",
                        randomization: String? = "cal/randomization.yaml", digest: String = "fnv1a64:aaaa") throws -> GateResult {
    let identity = GateIdentity(robot: robot, task: "walk", policy: "walk.onnx", policyDigest: digest, randomization: randomization,
                                randomizationDigest: randomization.map { _ in "fnv1a64:rrrr" }, seed: 1, trials: trials, threshold: threshold)
    return try ValidationGate(identity: identity).run { indices in
        indices.map { GateTrial(index: $0, success: $0 < successes, failureMode: $0 < successes ? "success" : "fall", distance: 1, seconds: 1, totalReward: 1) }
    }
}

/// Robot trials: `successes` of `count` succeed.
private func robotTrials(_ successes: Int, of count: Int, gate: DeploymentClearance? = nil) -> [TrialRecord] {
    (0..<count).map { i in
        TrialRecord(trial: i, robot: "quadruped", policy: "walk.onnx", backend: .emulator, truth: "slow link", seed: UInt64(i),
                    success: i < successes, failureMode: i < successes ? "success" : "fall", distance: 1, requiredDistance: 1,
                    episodeSeconds: 10, score: 0.1, gate: gate)
    }
}

@Suite struct GateVersusRobotTests {
    @Test func aGateThatAgreesWithTheRobot() throws {
        let v = try GateVersusRobot(gate: gateResult(92, of: 100), gateSource: "gate.json", robot: robotTrials(9, of: 10), robotSource: "trials.jsonl")
        #expect(v.verdict == .agrees)
        #expect(abs(v.differencePercentagePoints - 2) < 1e-9)
        #expect(v.differenceInterval.lower < 0 && v.differenceInterval.upper > 0)
        #expect(v.sentence.hasPrefix("The gate agrees with the robot: gate 92/100 (92 %) vs robot 9/10 (90 %): +2.0 points"))
        #expect(!v.sentence.contains("leans"))
    }

    /// The issue's case: 77/100 in the gate, 10/10 on the robot. Ten robot trials cannot show the
    /// gate pessimistic (Newcombe −32.1 … +5.7 points): the verdict says it leans, no more.
    @Test func tenRobotTrialsCannotConvictAGate() throws {
        let v = try GateVersusRobot(gate: gateResult(77, of: 100), gateSource: "gate.json", robot: robotTrials(10, of: 10), robotSource: "trials.jsonl")
        #expect(v.verdict == .agrees)
        #expect(abs(v.differenceInterval.lower - -32.15) < 0.01 && abs(v.differenceInterval.upper - 5.66) < 0.01)
        #expect(v.sentence.contains("it leans pessimistic by 23 points"))
        #expect(v.advice.contains("Run more trials on the robot"))
    }

    @Test func aPessimisticGate() throws {
        let v = try GateVersusRobot(gate: gateResult(34, of: 100), gateSource: "gate.json", robot: robotTrials(20, of: 20), robotSource: "trials.jsonl")
        #expect(v.verdict == .pessimistic)
        #expect(v.differenceInterval.upper < 0 && v.fisherP < 0.05)
        #expect(v.advice.contains("harsher robot than the one measured"))
    }

    @Test func anOptimisticGate() throws {
        let v = try GateVersusRobot(gate: gateResult(95, of: 100), gateSource: "gate.json", robot: robotTrials(3, of: 10), robotSource: "trials.jsonl")
        #expect(v.verdict == .optimistic)
        #expect(v.differenceInterval.lower > 0 && v.fisherP < 0.05)
        #expect(v.sentence.contains("the robot does worse than it predicts"))
    }

    /// 2/2 vs 0/2: Newcombe's interval excludes 0 (+7 … +100 points) but Fisher's exact p is 1/3;
    /// the verdict does not claim a difference the exact test cannot confirm.
    @Test func aFewTrialsDoNotMakeADifference() throws {
        let v = try GateVersusRobot(gate: gateResult(2, of: 2, threshold: 0.05), gateSource: "gate.json", robot: robotTrials(0, of: 2),
                                    robotSource: "trials.jsonl")
        #expect(v.differenceInterval.lower > 0)
        #expect(abs(v.fisherP - 1.0 / 3) < 1e-9)
        #expect(v.verdict == .agrees)
    }

    @Test func mismatchesAreRefusedOrNoted() throws {
        #expect(throws: TetherError.self) { try GateVersusRobot(gate: gateResult(9, of: 10, robot: "cartpole"), gateSource: "g", robot: robotTrials(1, of: 1),
                                                                robotSource: "t") }
        var shard = try gateResult(9, of: 10)
        shard.shard = try GateShard(index: 0, count: 2)
        #expect { try GateVersusRobot(gate: shard, gateSource: "g", robot: robotTrials(1, of: 1),
                                      robotSource: "t") } throws: { "\($0)".contains("merge the shards first") }
        #expect(throws: TetherError.self) { try GateVersusRobot(gate: gateResult(9, of: 10), gateSource: "g", robot: [], robotSource: "t") }
        let clearance = DeploymentClearance(status: .overridden, robot: "quadruped", policy: "walk.onnx", policyDigest: "fnv1a64:bbbb", manifest: "m.yaml",
                                            manifestDigest: "fnv1a64:mmmm", backend: .emulator, refusal: "never validated", overrideReason: "bench")
        let v = try GateVersusRobot(gate: gateResult(9, of: 10, randomization: nil), gateSource: "g", robot: robotTrials(1, of: 1, gate: clearance),
                                    robotSource: "t")
        #expect(v.notes.contains { $0.contains("they are not the same policy") })
        #expect(v.notes.contains { $0.contains("nominal model") })
        #expect(v.robot.gate == [clearance.sentence])
        #expect(!v.notes.contains { $0.contains("torque stage") })
        // Robot trials at a reduced torque stage are noted: the gate validated full torque.
        let staged = robotTrials(1, of: 1).map { var r = $0; r.stage = 0.25; return r }
        let w = try GateVersusRobot(gate: gateResult(9, of: 10), gateSource: "g", robot: staged, robotSource: "t")
        #expect(w.notes.contains { $0.contains("torque stage of 25 %") && $0.contains("--stage 100") })
    }

    @Test func theGapReportCarriesTheSectionInHTMLAndJSON() throws {
        let cleared = DeploymentClearance(status: .cleared, robot: "quadruped", policy: "walk.onnx", policyDigest: "fnv1a64:aaaa", manifest: "m.yaml",
                                          manifestDigest: "fnv1a64:mmmm", backend: .emulator,
                                          validation: .init(id: 3, date: "2026-12-05T01:17:35Z", trials: 100, successes: 92, lower: 0.85, threshold: 0.8,
                                                            decision: "GO", randomization: "cal/randomization.yaml"))
        let real = robotTrials(9, of: 10, gate: cleared)
        var gap = try GapReport(sim: robotTrials(10, of: 10).map { var r = $0; r.backend = .sim; return r }, real: real, simSource: "sim.jsonl",
                                realSource: "real.jsonl")
        gap.gateVersusRobot = try GateVersusRobot(gate: gateResult(92, of: 100, threshold: 0.8), gateSource: "gate.json", robot: real,
                                                  robotSource: "real.jsonl")
        let html = gap.html().render()
        #expect(html.contains("Gate vs robot") && html.contains("Newcombe"))
        #expect(html.contains("cleared by validation #3 of 2026-12-05 01:17 UTC: 92/100, lower bound 85.0 % ≥ 80.0 %, GO, randomization "
            + "cal/randomization.yaml"))
        let decoded = try JSONDecoder().decode(GapReport.self, from: gap.json())
        #expect(decoded.gateVersusRobot == gap.gateVersusRobot)
        #expect(decoded.real.gate == [cleared.sentence])
        // The comparison alone (no sim set) renders its own report.
        let alone = gap.gateVersusRobot!.html().render()
        #expect(alone.contains("Gate vs robot") && alone.contains("Robot trials"))
    }

    @Test func recordsWithoutAGateReadBack() throws {
        // A line written before the gate existed: no "gate" key.
        let line = #"{"backend":"emulator","distance":1,"episodeSeconds":10,"failureMode":"success","format":1,"interventions":{},"#
            + #""oscillationCutoffHz":10,"policy":"p.onnx","requiredDistance":1,"robot":"quadruped","score":0.1,"seed":1,"success":true,"trial":0}"#
        let records = try TrialRecords.decode(line)
        #expect(records.count == 1 && records[0].gate == nil)
        let withGate = robotTrials(1, of: 1, gate: DeploymentClearance(status: .overridden, robot: "quadruped", policy: "p", policyDigest: "d", manifest: "m",
                                                                       manifestDigest: "e", backend: .ros2, overrideReason: "bench"))
        #expect(try TrialRecords.decode(TrialRecords.encode(withGate)) == withGate)
    }
}
