import ArgumentParser
import Foundation
import TetherBench
import TetherCore
import TetherVision

extension Bench {
    struct DetectBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "detect",
            abstract: "Detector frame latency (pre-process, inference, post-process) vs the usual Python pipeline.",
            discussion: """
            Runs the detector on the same images with Tether and with benchmarks/detect_peer.py \
            (cv2 + numpy letterbox, onnxruntime session.run, numpy decoding and NMS), same model, \
            thresholds and thread count; prints per-stage medians, totals and the ratio. Build \
            with -c release for meaningful numbers.

            Examples:
              tether bench detect
              tether bench detect --model m.onnx --images data/val --frames 500 --threads 4
            """
        )
        @Option(help: "The detector (.onnx).") var model = "fixtures/vision/detector.onnx"
        @Option(help: "A directory of JPEG / PNG images (default: the model's directory's images/, else its real/).") var images: String?
        @Option(help: "Timed frames per pipeline.") var frames = 200
        @Option(help: "Untimed frames first.") var warmup = 10
        @Flag(help: "Skip the Python pipeline.") var noPython = false
        @Flag(help: "Print the report as JSON.") var json = false
        @OptionGroup var detector: DetectorArguments

        func validate() throws {
            guard frames > 0, warmup >= 0 else { throw ValidationError("--frames must be positive and --warmup not negative") }
        }

        func run() throws {
            // A relative path not found here is looked up in the Tether checkout (the default fixture).
            var model = self.model
            if !FileManager.default.fileExists(atPath: model), !model.hasPrefix("/"), let root = TetherPaths.checkoutRoot(),
               FileManager.default.fileExists(atPath: "\(root)/\(model)") {
                model = "\(root)/\(model)"
            }
            guard FileManager.default.fileExists(atPath: model) else {
                FileHandle.standardError.write(Data(("error: \(model): detector model not found\n  hint: pass --model PATH (the fixture model "
                    + "fixtures/vision/detector.onnx comes with the vision fixtures)\n").utf8))
                throw ExitCode.failure
            }
            // Default: the model's directory's images/, else its real/ test set (the fixture's layout).
            let modelDirectory = (model as NSString).deletingLastPathComponent as NSString
            let directory = images ?? (FileManager.default.fileExists(atPath: modelDirectory.appendingPathComponent("images"))
                ? modelDirectory.appendingPathComponent("images") : modelDirectory.appendingPathComponent("real"))
            let files = try report { try ImageCodecs.imageFiles(at: directory) }
            let bench = DetectBenchmark(modelPath: model, imagePaths: files, frames: frames, warmup: warmup, threads: detector.threads,
                                        decode: detector.decode())
            if !json { print("tether bench detect: \(model), \(files.count) images from \(directory), \(frames) frames, \(detector.threads) thread(s)") }
            let result = try report { try bench.run(python: !noPython, log: json ? { _ in } : { print($0) }) }
            if json { try printJSON(result); return }
            if let s = result.speedup { print("ratio: Python pipeline / Tether (median total per frame) = \(fmt(s, 2))x") }
            if result.sameDetectionCounts == false { print("note: detection counts differ between the pipelines on some frames") }
        }
    }
}
