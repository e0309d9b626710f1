import Foundation
import Testing
import TetherCore
import TetherONNX
import TetherPolicy
import TetherRuntime
import TetherValidation

/// A teacher policy with non-trivial normalization and a gait generator with steering, so the
/// fixed parts are exercised along with the MLP.
private func teacherPolicy(seed: UInt64 = 3) -> PolicyNetwork {
    var random = SeededRandom(seed: seed)
    var policy = PolicyNetwork(mlp: MLP(sizes: [8, 16, 3], activation: .tanh, random: &random))
    for i in 0..<policy.mlp.biases[0].count { policy.mlp.biases[0][i] = Float(random.uniform(-0.2, 0.2)) }
    policy.observationMean = (0..<8).map { _ in Float(random.uniform(-0.5, 0.5)) }
    policy.observationStd = (0..<8).map { _ in Float(random.uniform(0.5, 2)) }
    let weights = (0..<3 * 4).map { _ in Float(random.uniform(-0.3, 0.3)) }
    let steering = TrajectoryGenerator.Steering(headingIndex: 7, weights: weights.map { $0 * 0.5 }, offsets: [0.1, -0.1, 0])
    policy.generator = TrajectoryGenerator(phaseIndex: 4, harmonics: 2, weights: weights, offsets: [0.05, 0, -0.05], steering: steering)
    return policy
}

/// Demonstrations from `teacher`: random observations whose entries 4 and 5 are sin φ and cos φ.
private func demonstrations(from teacher: PolicyNetwork, count: Int, seed: UInt64) -> [Demonstration] {
    var random = SeededRandom(seed: seed, stream: 77)
    return (0..<count).map { _ in
        var o = (0..<8).map { _ in Float(random.gaussian()) }
        let phi = random.uniform(0, 2 * Double.pi)
        o[4] = Float(sin(phi))
        o[5] = Float(cos(phi))
        return Demonstration(observation: o, action: teacher.act(o))
    }
}

/// The teacher with every MLP parameter perturbed.
private func perturbed(_ teacher: PolicyNetwork, by size: Double) -> PolicyNetwork {
    var random = SeededRandom(seed: 99)
    var student = teacher
    student.mlp.parameters = student.mlp.parameters.map { $0 + Float(random.gaussian(standardDeviation: size)) }
    return student
}

private func temporaryPath(_ suffix: String) -> String {
    NSTemporaryDirectory() + "tether-finetune-\(UUID().uuidString)\(suffix)"
}

private func expectError(_ body: () throws -> Void, contains text: String, at location: String? = nil) {
    do {
        try body()
        Issue.record("expected an error containing '\(text)'")
    } catch let error as TetherError {
        #expect(error.what.contains(text), "\(error)")
        if let location { #expect(error.location == location, "\(error)") }
    } catch {
        Issue.record("unexpected error \(error)")
    }
}

@Suite struct FineTuneTests {
    @Test func anExportedPolicyReadsBackExactly() throws {
        var random = SeededRandom(seed: 5)
        var policy = teacherPolicy()
        policy.mlp = MLP(sizes: [8, 12, 10, 3], activation: .elu, random: &random)
        let metadata = ["robot": "test", "observation_size": "8", "action_size": "3"]
        let read = try ExportedPolicy(bytes: try OnnxWriter.model(policy, metadata: metadata))
        #expect(read.policy == policy)
        #expect(read.metadata == metadata)
        // The shipped quadruped policy (a linear MLP plus the trot generator with steering).
        let quadruped = try ExportedPolicy(path: "\(repositoryRoot)/policies/quadruped.onnx")
        #expect(quadruped.policy.mlp.sizes == [48, 12] && quadruped.policy.generator?.steering != nil)
        #expect(quadruped.metadata["robot"] == "quadruped")
    }

    @Test func fineTuningAPerturbedStudentLowersTheHeldOutLossAndIsDeterministic() throws {
        let teacher = teacherPolicy()
        let data = demonstrations(from: teacher, count: 800, seed: 1)
        var config = FineTuneConfig()
        config.epochs = 60
        config.batchSize = 32
        config.learningRate = 3e-3
        config.seed = 4
        let tuner = try FineTuner(policy: perturbed(teacher, by: 0.3), config: config)
        var lines: [FineTuneEpoch] = []
        let (student, summary) = try tuner.run(data) { lines.append($0) }
        #expect(summary.trainSamples == 720 && summary.heldOutSamples == 80)
        #expect(lines == summary.history && !lines.isEmpty)
        #expect(summary.after.heldOut < 0.1 * summary.before.heldOut, "\(summary.before) → \(summary.after)")
        #expect(summary.after.train < 0.1 * summary.before.train)
        // Only the MLP moved.
        #expect(student.generator == teacher.generator && student.observationMean == teacher.observationMean)
        #expect(summary.fixedParts.count == 2)
        // Same seed, same result.
        let (again, summaryAgain) = try tuner.run(data)
        #expect(again == student && summaryAgain == summary)
    }

    @Test func earlyStoppingKeepsTheBestHeldOutEpoch() throws {
        let teacher = teacherPolicy()
        // Few, noisy demonstrations and a large step: the held-out loss stops improving quickly.
        var data = demonstrations(from: teacher, count: 40, seed: 2)
        var random = SeededRandom(seed: 8)
        for i in data.indices { data[i].action = data[i].action.map { $0 + Float(random.gaussian(standardDeviation: 0.5)) } }
        var config = FineTuneConfig()
        config.epochs = 500
        config.batchSize = 4
        config.learningRate = 3e-2
        config.patience = 5
        let (_, summary) = try FineTuner(policy: perturbed(teacher, by: 0.3), config: config).run(data)
        #expect(summary.stoppedEarly && summary.epochsRun < 500)
        #expect(summary.epochsRun == summary.bestEpoch + 5)
        let best = summary.history.map(\.heldOutLoss).min()!
        #expect(summary.after.heldOut == min(best, summary.before.heldOut))
    }

    @Test func theExportedModelKeepsTheContractAndMatchesTheNativePolicy() throws {
        let teacher = teacherPolicy()
        let start = perturbed(teacher, by: 0.2)
        let policyPath = temporaryPath(".onnx"), demosPath = temporaryPath(".jsonl")
        let outPath = temporaryPath(".onnx"), summaryPath = temporaryPath(".json")
        defer { for p in [policyPath, demosPath, outPath, summaryPath] { try? FileManager.default.removeItem(atPath: p) } }
        let contract = ["robot": "test", "observation_size": "8", "action_size": "3", "joint_names": "a,b,c", "training": "ARS"]
        try OnnxWriter.write(start, metadata: contract, to: policyPath)
        let lines = demonstrations(from: teacher, count: 300, seed: 3).map(\.jsonLine).joined(separator: "\n")
        try Data(lines.utf8).write(to: URL(fileURLWithPath: demosPath))
        var config = FineTuneConfig()
        config.epochs = 20
        let summary = try FineTuneRun(policyPath: policyPath, demonstrationPaths: [demosPath], outputPath: outPath,
                                      summaryPath: summaryPath, config: config, commandLine: "tether finetune …").run()
        #expect(summary.exportMaxDifference! < 1e-5)
        #expect(summary.after.heldOut < summary.before.heldOut)
        let written = try ExportedPolicy(path: outPath)
        for (key, value) in contract { #expect(written.metadata[key] == value) }
        #expect(written.metadata["fine_tuning"] != nil && written.metadata["fine_tuning_command"] == "tether finetune …")
        // ONNX Runtime on the written file, independently of the run's own check.
        let session = try OnnxSession(path: outPath)
        let probe = demonstrations(from: teacher, count: 16, seed: 9).map(\.observation)
        let out = try session.run([probe.flatMap { $0 }], shapes: [[16, 8]])[0]
        for (k, o) in probe.enumerated() {
            let native = written.policy.act(o)
            for j in 0..<3 { #expect(abs(out[k * 3 + j] - native[j]) < 1e-5) }
        }
        let decoded = try JSONDecoder().decode(FineTuneSummary.self, from: Data(contentsOf: URL(fileURLWithPath: summaryPath)))
        #expect(decoded == summary)
    }

    @Test func flightRecordingsPairObservationsAndActionsByLogTime() throws {
        let path = temporaryPath(".mcap")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let manifest = try Manifest.load(path: "\(repositoryRoot)/robots/quadruped/quadruped.yaml")
        let recorder = FlightRecorder(manifest: manifest, path: path, continuous: true, clockStart: 0)
        for k in 0..<50 {
            // Tick 10 has an observation but no action (a skipped policy call): it is not a pair.
            try recorder.record(FlightRecord(time: Double(k) * 0.02, state: nil, observation: [Float](repeating: Float(k), count: 48),
                                             action: k == 10 ? nil : [Float](repeating: Float(k) / 10, count: 12), command: nil, events: []))
        }
        try recorder.close()
        let pairs = try DemonstrationSource.read(path: path)
        #expect(pairs.count == 49)
        #expect(pairs.allSatisfy { $0.action[0] == $0.observation[0] / 10 && $0.observation.count == 48 && $0.action.count == 12 })
        #expect(pairs.first?.source?.hasPrefix(path) == true)
        // A recording with observations only has nothing to learn from.
        let lonely = temporaryPath(".mcap")
        defer { try? FileManager.default.removeItem(atPath: lonely) }
        let observationsOnly = FlightRecorder(manifest: manifest, path: lonely, continuous: true, clockStart: 0)
        try observationsOnly.record(FlightRecord(time: 0, state: nil, observation: [Float](repeating: 0, count: 48), action: nil,
                                                 command: nil, events: []))
        try observationsOnly.close()
        expectError({ _ = try DemonstrationSource.read(path: lonely) }, contains: "no (observation, action) pairs", at: lonely)
    }

    @Test func badInputGetsClearErrors() throws {
        let tuner = try FineTuner(policy: teacherPolicy(), config: FineTuneConfig())
        expectError({ _ = try tuner.run([]) }, contains: "no demonstrations")
        let good = demonstrations(from: teacherPolicy(), count: 4, seed: 1)
        expectError({ _ = try tuner.run(Array(good.prefix(1))) }, contains: "at least 2")
        // Dimension mismatches name the line the demonstration came from.
        let text = good.map(\.jsonLine).joined(separator: "\n") + "\n"
            + #"{"observation": [1, 2, 3, 4, 5], "action": [0, 0, 0]}"#
        let parsed = try Demonstration.parseJSONLines(text, source: "demos.jsonl")
        expectError({ _ = try tuner.run(parsed) }, contains: "observation has 5 values, the policy takes 8", at: "demos.jsonl:5")
        var wrongAction = good
        wrongAction[2].action.append(0)
        expectError({ _ = try tuner.run(wrongAction) }, contains: "action has 4 values, the policy outputs 3")
        // Malformed lines, by number (blank lines count).
        expectError({ _ = try Demonstration.parseJSONLines("\(good[0].jsonLine)\n\n{\"observation\": [1, 2", source: "d.jsonl") },
                    contains: "line 3 is not valid JSON", at: "d.jsonl:3")
        expectError({ _ = try Demonstration.parseJSONLines(#"{"observation": [1]}"#, source: "d.jsonl") },
                    contains: "line 1 has no 'action' field", at: "d.jsonl:1")
        expectError({ _ = try Demonstration.parseJSONLines(#"{"observation": [1, "x"], "action": [0]}"#, source: "d.jsonl") },
                    contains: "'observation' is not an array of numbers")
        expectError({ _ = try Demonstration.parseJSONLines("[1, 2]", source: "d.jsonl") }, contains: "line 1 is not a JSON object")
        // Options are checked by name.
        var config = FineTuneConfig()
        config.heldOutFraction = 1
        expectError({ _ = try FineTuner(policy: teacherPolicy(), config: config) }, contains: "--held-out")
        // A model Tether did not export.
        expectError({ _ = try ExportedPolicy(bytes: [0x08, 0x08]) }, contains: "layer0.weight")
    }
}
