import ArgumentParser
import Foundation
import TetherCore
import TetherPolicy
import TetherValidation

struct FineTune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Fine-tune a policy's MLP on real demonstrations (supervised, MSE on the actions, Adam).",
        discussion: """
        Reads (observation, action) pairs from flight recordings (.mcap: /tether/observation and \
        /tether/action paired by log time) and JSON Lines files ({"observation": [...], "action": [...]} \
        per line), holds out a seeded fraction, trains with mini-batch Adam and early stopping on the \
        held-out loss, and exports the best policy as ONNX with the original contract in its metadata. \
        Normalization and any gait generator stay fixed: only the MLP (the residual) trains. \
        See docs/finetune.md.

        Examples:
          tether finetune --policy policies/quadruped.onnx --demos run1.mcap --demos run2.mcap --out quadruped-ft.onnx
          tether finetune --policy policies/cartpole.onnx --demos demos.jsonl --lr 3e-4 --epochs 200 --out cartpole-ft.onnx
        """
    )

    @Option(help: "ONNX policy exported by Tether to start from.") var policy: String
    @Option(help: "Demonstrations: a flight recording (.mcap) or a JSON Lines file (repeat for several).") var demos: [String] = []
    @Option(help: "Output ONNX path.") var out: String
    @Option(help: "JSON summary path (default: <out>.finetune.json).") var summary: String?
    @Option(help: "Most epochs.") var epochs = 100
    @Option(help: "Demonstrations per Adam step.") var batchSize = 64
    @Option(help: "Adam learning rate.") var lr = 1e-3
    @Option(help: "Adam beta1.") var beta1 = 0.9
    @Option(help: "Adam beta2.") var beta2 = 0.999
    @Option(help: "Decoupled weight decay (AdamW); 0 for plain Adam.") var weightDecay = 0.0
    @Option(help: "Fraction of demonstrations held out, in (0, 1).") var heldOut = 0.1
    @Option(help: "Stop after this many epochs without a lower held-out loss (0: never).") var patience = 10
    @Option(help: "Seed of the split and the shuffles.") var seed: UInt64 = 1

    func validate() throws {
        guard !demos.isEmpty else { throw ValidationError("pass at least one --demos file (.mcap recording or .jsonl)") }
    }

    func run() throws {
        var config = FineTuneConfig()
        config.epochs = epochs
        config.batchSize = batchSize
        config.learningRate = lr
        config.beta1 = beta1
        config.beta2 = beta2
        config.weightDecay = weightDecay
        config.heldOutFraction = heldOut
        config.patience = patience
        config.seed = seed
        let summaryPath = summary ?? out + ".finetune.json"
        let commandLine = (["tether"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        let job = FineTuneRun(policyPath: policy, demonstrationPaths: demos, outputPath: out, summaryPath: summaryPath,
                              config: config, commandLine: commandLine)
        let result = try report {
            try job.run(log: emit, progress: { e in
                emit(String(format: "epoch %4d  train MSE %.6g  held-out MSE %.6g", e.epoch, e.trainLoss, e.heldOutLoss) + (e.improved ? "  *" : ""))
            })
        }
        emit("\(result.trainSamples) train / \(result.heldOutSamples) held out; kept epoch \(result.bestEpoch) of "
            + "\(result.epochsRun)\(result.stoppedEarly ? " (stopped early)" : "")")
        emit(String(format: "MSE before: train %.6g  held-out %.6g", result.before.train, result.before.heldOut))
        emit(String(format: "MSE after:  train %.6g  held-out %.6g", result.after.train, result.after.heldOut))
        emit("ONNX Runtime vs native: largest difference \(result.exportMaxDifference.map { String(format: "%.2g", $0) } ?? "-")")
        emit("wrote \(out) and \(summaryPath)")
    }
}
