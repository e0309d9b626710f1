import Foundation
import TetherCore
import TetherPolicy

/// The whole of `tether finetune`: read the policy and the demonstrations, fine-tune, export the
/// ONNX model with the original contract, check it under ONNX Runtime, write the JSON summary.
public struct FineTuneRun: Sendable {
    /// The ONNX policy to start from (one Tether exported).
    public var policyPath: String
    /// Demonstration files: flight recordings (.mcap) and JSON Lines files.
    public var demonstrationPaths: [String]
    /// Where the fine-tuned ONNX model goes.
    public var outputPath: String
    /// Where the JSON summary goes.
    public var summaryPath: String
    public var config: FineTuneConfig
    /// The command line, recorded in the model's metadata.
    public var commandLine: String?
    /// Largest |ONNX Runtime − native| accepted for the exported model, relative to the largest
    /// |action| when that exceeds 1 (float32 rounding grows with the magnitudes involved).
    public static let exportTolerance = 1e-5

    public init(policyPath: String, demonstrationPaths: [String], outputPath: String, summaryPath: String,
                config: FineTuneConfig, commandLine: String? = nil) {
        self.policyPath = policyPath
        self.demonstrationPaths = demonstrationPaths
        self.outputPath = outputPath
        self.summaryPath = summaryPath
        self.config = config
        self.commandLine = commandLine
    }

    /// Runs it, with `log` for one-off lines and `progress` for each epoch.
    public func run(log: (String) -> Void = { _ in }, progress: (FineTuneEpoch) -> Void = { _ in }) throws -> FineTuneSummary {
        try config.validate()  // before any reading, so a bad option fails at once
        let start = try ExportedPolicy(path: policyPath)
        var demonstrations: [Demonstration] = []
        for path in demonstrationPaths {
            let read = try DemonstrationSource.read(path: path)
            log("read \(read.count) demonstrations from \(path)")
            demonstrations += read
        }
        let tuner = try FineTuner(policy: start.policy, config: config)
        let mlp = start.policy.mlp
        log("fine-tuning the MLP \(mlp.sizes.map(String.init).joined(separator: "→")) (\(mlp.parameterCount) parameters); fixed: "
            + "\(tuner.fixedParts.joined(separator: "; "))")
        let (policy, result) = try tuner.run(demonstrations, progress: progress)
        var summary = result

        var metadata = start.metadata
        metadata["fine_tuning"] = "supervised (MSE, Adam), \(summary.demonstrations) demonstrations, best epoch \(summary.bestEpoch), "
            + "held-out MSE \(summary.before.heldOut) -> \(summary.after.heldOut), seed \(config.seed)"
        if let commandLine { metadata["fine_tuning_command"] = commandLine }
        let bytes = try OnnxWriter.model(policy, metadata: metadata)
        // The exported graph must compute what was trained: check it on the held-out observations.
        let heldOut = tuner.split(count: demonstrations.count).heldOut.prefix(256).map { demonstrations[$0].observation }
        let (difference, largestAction) = try FineTuner.exportDifference(model: bytes, policy: policy, observations: Array(heldOut))
        summary.exportMaxDifference = difference
        let tolerance = Self.exportTolerance * max(1, largestAction)
        guard difference < tolerance else {
            throw TetherError("the exported model differs from the native policy by \(difference) (tolerance \(tolerance))",
                              at: outputPath, hint: "this is a bug in Tether's ONNX export; please report it with the policy")
        }
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: outputPath), options: .atomic)
        } catch {
            throw TetherError("cannot write the ONNX model: \(error.localizedDescription)", at: outputPath)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try encoder.encode(summary).write(to: URL(fileURLWithPath: summaryPath), options: .atomic)
        } catch {
            throw TetherError("cannot write the summary: \(error.localizedDescription)", at: summaryPath)
        }
        return summary
    }
}
