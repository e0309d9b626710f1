import Foundation
import TetherCore
import TetherONNX

// Supervised fine-tuning of a policy on demonstrations (behaviour cloning on real data).
//
// The loss is the mean squared error between the policy's action and the demonstrated action,
// minimized by Adam with decoupled weight decay: D. P. Kingma, J. Ba, "Adam: A Method for
// Stochastic Optimization", ICLR 2015 (Algorithm 1), and I. Loshchilov, F. Hutter, "Decoupled
// Weight Decay Regularization", ICLR 2019 (AdamW). Each epoch:
// 1. shuffle the training split (a stream derived from (seed, epoch));
// 2. for each mini-batch, accumulate ∂L/∂θ by the MLP's backward pass and take one Adam step;
// 3. measure the mean squared error on the training and held-out splits;
// 4. keep the parameters with the lowest held-out loss; stop after `patience` epochs without
//    improvement, and hand back the best parameters (early stopping).
// Only the MLP trains. Observation normalization and any trajectory generator are fixed parts of
// the policy: the network learns the residual `action − generator(observation)`.

/// One demonstrated step: what the policy observed and the action the demonstrator took.
public struct Demonstration: Sendable, Equatable, Codable {
    /// The observation, in the policy's order and scaling (as the observation builder makes it).
    public var observation: [Float]
    /// The action, in policy units (before the action mapper).
    public var action: [Float]
    /// Where it came from (file and line, or recording and time), for error messages.
    public var source: String?

    /// Creates a demonstration.
    public init(observation: [Float], action: [Float], source: String? = nil) {
        self.observation = observation
        self.action = action
        self.source = source
    }

    /// Reads demonstrations from a JSON Lines file: one object per line with `observation` and
    /// `action` arrays of numbers. Blank lines are skipped.
    public static func readJSONLines(path: String) throws -> [Demonstration] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TetherError("cannot read the demonstrations file", at: path, hint: "check the --demos path")
        }
        return try parseJSONLines(String(decoding: data, as: UTF8.self), source: path)
    }

    /// Parses JSON Lines text; errors name the line by number.
    public static func parseJSONLines(_ text: String, source: String) throws -> [Demonstration] {
        var result: [Demonstration] = []
        let hint = #"each line must be an object like {"observation": [0.1, ...], "action": [0.0, ...]}"#
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            let location = "\(source):\(index + 1)"
            let decoded: Line
            do {
                decoded = try JSONDecoder().decode(Line.self, from: Data(trimmed.utf8))
            } catch DecodingError.keyNotFound(let key, _) {
                throw TetherError("line \(index + 1) has no '\(key.stringValue)' field", at: location, hint: hint)
            } catch DecodingError.typeMismatch(_, let context) {
                let field = context.codingPath.first?.stringValue
                throw TetherError(field.map { "line \(index + 1): '\($0)' is not an array of numbers" } ?? "line \(index + 1) is not a JSON object",
                                  at: location, hint: hint)
            } catch {
                throw TetherError("line \(index + 1) is not valid JSON", at: location, hint: hint)
            }
            result.append(Demonstration(observation: decoded.observation.map(Float.init), action: decoded.action.map(Float.init), source: location))
        }
        return result
    }

    /// One line of a JSON Lines file.
    private struct Line: Decodable {
        var observation: [Double]
        var action: [Double]
    }

    /// As one JSON Lines line (the format `readJSONLines` reads).
    public var jsonLine: String {
        func list(_ v: [Float]) -> String { "[" + v.map { "\($0)" }.joined(separator: ",") + "]" }
        return #"{"observation":"# + list(observation) + #","action":"# + list(action) + "}"
    }
}

/// Fine-tuning hyperparameters.
public struct FineTuneConfig: Sendable, Codable, Equatable {
    /// Most epochs to run.
    public var epochs = 100
    /// Demonstrations per Adam step.
    public var batchSize = 64
    /// Adam step size α.
    public var learningRate = 1e-3
    /// Adam decay rate of the first moment, β₁.
    public var beta1 = 0.9
    /// Adam decay rate of the second moment, β₂.
    public var beta2 = 0.999
    /// Adam's ε.
    public var epsilon = 1e-8
    /// Decoupled weight decay λ (AdamW): θ ← θ − α λ θ each step; 0 for plain Adam.
    public var weightDecay = 0.0
    /// Fraction of the demonstrations held out to measure generalization, in (0, 1).
    public var heldOutFraction = 0.1
    /// Stop after this many epochs without a lower held-out loss (0: never stop early).
    public var patience = 10
    /// Seed of the split and the shuffles.
    public var seed: UInt64 = 1

    public init() {}

    /// Checks the values, naming the CLI option at fault.
    public func validate() throws {
        guard epochs >= 0 else { throw TetherError("--epochs must be 0 or more, got \(epochs)") }
        guard batchSize >= 1 else { throw TetherError("--batch-size must be at least 1, got \(batchSize)") }
        guard learningRate > 0, learningRate.isFinite else { throw TetherError("--lr must be positive, got \(learningRate)") }
        guard (0..<1).contains(beta1), (0..<1).contains(beta2) else {
            throw TetherError("--beta1 and --beta2 must be in [0, 1), got \(beta1) and \(beta2)")
        }
        guard epsilon > 0 else { throw TetherError("Adam's epsilon must be positive, got \(epsilon)") }
        guard weightDecay >= 0 else { throw TetherError("--weight-decay must be 0 or more, got \(weightDecay)") }
        guard heldOutFraction > 0, heldOutFraction < 1 else {
            throw TetherError("--held-out must be a fraction between 0 and 1 (exclusive), got \(heldOutFraction)")
        }
        guard patience >= 0 else { throw TetherError("--patience must be 0 or more, got \(patience)") }
    }
}

/// One epoch of progress.
public struct FineTuneEpoch: Sendable, Codable, Equatable {
    public var epoch: Int
    /// Mean squared action error on the training split after this epoch.
    public var trainLoss: Double
    /// Mean squared action error on the held-out split after this epoch.
    public var heldOutLoss: Double
    /// Whether this epoch set a new best held-out loss.
    public var improved: Bool
}

/// Losses on both splits.
public struct FineTuneLosses: Sendable, Codable, Equatable {
    public var train: Double
    public var heldOut: Double
}

/// What a fine-tuning run did, for the JSON summary.
public struct FineTuneSummary: Sendable, Codable, Equatable {
    public var demonstrations: Int
    public var trainSamples: Int
    public var heldOutSamples: Int
    /// Losses of the starting policy.
    public var before: FineTuneLosses
    /// Losses of the returned (best held-out) policy.
    public var after: FineTuneLosses
    /// The epoch whose parameters were kept (0: the starting policy was never beaten).
    public var bestEpoch: Int
    public var epochsRun: Int
    public var stoppedEarly: Bool
    /// Parameters that trained (the MLP's).
    public var trainedParameters: Int
    /// Parts of the policy held fixed.
    public var fixedParts: [String]
    public var config: FineTuneConfig
    public var history: [FineTuneEpoch]
    /// Largest |ONNX Runtime − native| over the checked observations, when the export was checked.
    public var exportMaxDifference: Double?
}

/// Fine-tunes a policy's MLP on demonstrations with mini-batch Adam and early stopping.
public struct FineTuner: Sendable {
    /// The starting policy.
    public let policy: PolicyNetwork
    public let config: FineTuneConfig

    /// Creates a tuner; the config must be valid.
    public init(policy: PolicyNetwork, config: FineTuneConfig) throws {
        try config.validate()
        self.policy = policy
        self.config = config
    }

    /// What stays fixed during fine-tuning, in words.
    public var fixedParts: [String] {
        var parts = ["observation normalization (mean, std)"]
        if let g = policy.generator {
            parts.append("trajectory generator (\(g.harmonics) harmonics\(g.steering == nil ? "" : ", with steering"))")
        }
        return parts
    }

    /// Checks that every demonstration fits the policy and that there are enough of them.
    public func check(_ demonstrations: [Demonstration]) throws {
        let n = policy.mlp.inputSize, m = policy.mlp.outputSize
        guard !demonstrations.isEmpty else {
            throw TetherError("no demonstrations to fine-tune on",
                              hint: "pass --demos with a JSON Lines file or a flight recording that has /tether/observation and /tether/action")
        }
        guard demonstrations.count >= 2 else {
            throw TetherError("only 1 demonstration: fine-tuning needs at least 2 (one to train on, one held out)")
        }
        for (i, d) in demonstrations.enumerated() {
            let place = d.source ?? "demonstration \(i + 1)"
            if d.observation.count != n {
                throw TetherError("the observation has \(d.observation.count) values, the policy takes \(n)", at: place,
                                  hint: "record demonstrations with the policy's manifest (its observation terms and history)")
            }
            if d.action.count != m {
                throw TetherError("the action has \(d.action.count) values, the policy outputs \(m)", at: place,
                                  hint: "actions must be the policy's raw output (policy units, before the action mapper)")
            }
            if !(d.observation + d.action).allSatisfy(\.isFinite) {
                throw TetherError("the demonstration holds a NaN or infinite value", at: place)
            }
        }
    }

    /// Splits indices into (train, held out), seeded.
    public func split(count: Int) -> (train: [Int], heldOut: [Int]) {
        var random = SeededRandom(seed: config.seed, stream: 0x5EED_5B17)
        let order = Array(0..<count).shuffled(using: &random)
        let held = min(count - 1, max(1, Int((Double(count) * config.heldOutFraction).rounded())))
        return (Array(order[held...]), Array(order[..<held]))
    }

    /// Fine-tunes on `demonstrations`, reporting each epoch; returns the best policy (lowest
    /// held-out loss) and the summary.
    public func run(_ demonstrations: [Demonstration], progress: (FineTuneEpoch) -> Void = { _ in }) throws
        -> (policy: PolicyNetwork, summary: FineTuneSummary) {
        try check(demonstrations)
        // Inputs and residual targets once: the fixed parts do not change while training.
        let inputs = demonstrations.map { policy.normalize($0.observation) }
        let targets = demonstrations.map { d -> [Float] in
            var fixed = [Float](repeating: 0, count: d.action.count)
            policy.generator?.add(to: &fixed, observation: d.observation)
            return zip(d.action, fixed).map { $0 - $1 }
        }
        let (train, heldOut) = split(count: demonstrations.count)

        var mlp = policy.mlp
        var workspace = MLP.Workspace(mlp)
        func loss(_ net: MLP, _ indices: [Int]) -> Double {
            var sum = 0.0
            for k in indices {
                let y = inputs[k].withUnsafeBufferPointer { net.forward($0, workspace: &workspace) }
                for j in 0..<y.count { let e = Double(y[j] - targets[k][j]); sum += e * e }
            }
            return sum / Double(indices.count * net.outputSize)
        }

        let before = FineTuneLosses(train: loss(mlp, train), heldOut: loss(mlp, heldOut))
        var best = (mlp: mlp, loss: before.heldOut, epoch: 0)
        var history: [FineTuneEpoch] = []
        var theta = mlp.parameters.map(Double.init)
        var firstMoment = [Double](repeating: 0, count: theta.count), secondMoment = firstMoment
        var step = 0
        var sinceBest = 0, stoppedEarly = false
        let scale = 2 / Float(mlp.outputSize)  // ∂/∂y of the per-sample mean over action components

        var epoch = 0
        while epoch < config.epochs {
            epoch += 1
            var random = SeededRandom(seed: config.seed, stream: 0xE90C_0000 &+ UInt64(epoch))
            let order = train.shuffled(using: &random)
            var start = 0
            while start < order.count {
                let batch = order[start..<min(start + config.batchSize, order.count)]
                start += config.batchSize
                var gradients = MLP.Gradients(mlp)
                for k in batch {
                    let y = inputs[k].withUnsafeBufferPointer { mlp.forward($0, workspace: &workspace) }
                    let outputGradient = (0..<y.count).map { j in scale * (y[j] - targets[k][j]) / Float(batch.count) }
                    mlp.backward(outputGradient: outputGradient, workspace: &workspace, gradients: &gradients)
                }
                // Adam with bias correction, then decoupled weight decay.
                step += 1
                let g = gradients.flattened
                let c1 = 1 - pow(config.beta1, Double(step)), c2 = 1 - pow(config.beta2, Double(step))
                for i in theta.indices {
                    let gi = Double(g[i])
                    firstMoment[i] = config.beta1 * firstMoment[i] + (1 - config.beta1) * gi
                    secondMoment[i] = config.beta2 * secondMoment[i] + (1 - config.beta2) * gi * gi
                    let mHat = firstMoment[i] / c1, vHat = secondMoment[i] / c2
                    theta[i] -= config.learningRate * (mHat / (vHat.squareRoot() + config.epsilon) + config.weightDecay * theta[i])
                }
                mlp.parameters = theta.map(Float.init)
            }
            let heldOutLoss = loss(mlp, heldOut)
            let improved = heldOutLoss < best.loss
            if improved { best = (mlp, heldOutLoss, epoch); sinceBest = 0 } else { sinceBest += 1 }
            let record = FineTuneEpoch(epoch: epoch, trainLoss: loss(mlp, train), heldOutLoss: heldOutLoss, improved: improved)
            history.append(record)
            progress(record)
            if config.patience > 0 && sinceBest >= config.patience && epoch < config.epochs {
                stoppedEarly = true
                break
            }
        }

        var tuned = policy
        tuned.mlp = best.mlp
        let after = FineTuneLosses(train: loss(best.mlp, train), heldOut: best.loss)
        let summary = FineTuneSummary(demonstrations: demonstrations.count, trainSamples: train.count, heldOutSamples: heldOut.count,
                                      before: before, after: after, bestEpoch: best.epoch, epochsRun: history.count,
                                      stoppedEarly: stoppedEarly, trainedParameters: mlp.parameterCount, fixedParts: fixedParts,
                                      config: config, history: history, exportMaxDifference: nil)
        return (tuned, summary)
    }

    /// Runs `model` (ONNX bytes) under ONNX Runtime on `observations` in one batch and returns the
    /// largest absolute difference from `policy.act`, and the largest |action| the policy gave.
    public static func exportDifference(model: [UInt8], policy: PolicyNetwork, observations: [[Float]]) throws
        -> (difference: Double, largestAction: Double) {
        guard !observations.isEmpty else { return (0, 0) }
        let session = try OnnxSession(bytes: model, name: "fine-tuned policy")
        let n = policy.mlp.inputSize, m = policy.mlp.outputSize
        let outputs = try session.run([observations.flatMap { $0 }], shapes: [[observations.count, n]])
        guard let flat = outputs.first, flat.count == observations.count * m else {
            throw TetherError("ONNX Runtime returned \(outputs.first?.count ?? 0) values for \(observations.count) observations × \(m) actions")
        }
        var largest = 0.0, largestAction = 0.0
        for (k, observation) in observations.enumerated() {
            let native = policy.act(observation)
            for j in 0..<m {
                largest = max(largest, Double(abs(flat[k * m + j] - native[j])))
                largestAction = max(largestAction, Double(abs(native[j])))
            }
        }
        return (largest, largestAction)
    }
}
