import ArgumentParser
import Foundation
import TetherBench
import TetherCore
import TetherVision

extension Bench {
    struct COCOBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "coco",
            abstract: "COCO box evaluation of a COCO-val-sized set: Tether vs pycocotools and faster-coco-eval.",
            discussion: """
            Generates a synthetic ground truth (about 36 000 boxes in 5 000 images, 80 categories, \
            some crowd) and about 100 000 detections, evaluates them in-process (best of \
            --repeats, on every core and on one thread) and, in the same run, with pycocotools \
            and faster-coco-eval from the project venv (benchmarks/coco_peer.py, best of the same \
            --repeats); prints each tool's load / evaluate / accumulate / summarize times, the \
            ratios on every core and on one thread, and whether the 12 numbers are identical. \
            Build with -c release.

            Examples:
              tether bench coco
              tether bench coco --images 1000 --seed 2 --json
            """
        )
        @Option(help: "Images in the synthetic set.") var images = 5000
        @Option(help: "Seed of the synthetic set.") var seed: UInt64 = 1
        @Option(help: "Timed runs of each tool (best is kept).") var repeats = 3
        @Option(help: "Peers to run, comma-separated (pycocotools, faster_coco_eval; empty for none).") var peers = "pycocotools,faster_coco_eval"
        @Option(help: "Keep the generated ground truth and detections in this directory.") var keep: String?
        @Flag(help: "Print the report as JSON.") var json = false

        func validate() throws {
            guard images > 0, repeats > 0 else { throw ValidationError("--images and --repeats must be positive") }
        }

        func run() throws {
            let bench = COCOBenchmark(images: images, seed: seed, repeats: repeats, peers: peers.split(separator: ",").map(String.init))
            if !json { print("tether bench coco: \(images) images, \(ProcessInfo.processInfo.activeProcessorCount) threads, every tool best of \(repeats)") }
            let result = try report { try bench.run(keepIn: keep, log: json ? { _ in } : { print($0) }) }
            if json { try printJSON(result); return }
            print("ratios (peer time / Tether time, higher is better for Tether):")
            for (name, ratio) in result.speedup.sorted(by: { $0.key < $1.key }) {
                let same = result.identical[name] == true ? "identical 12 numbers" : "12 numbers differ by at most \(result.maxDifference[name] ?? .nan)"
                let one = result.speedupOneThread[name].map { fmt($0, 2) } ?? "?"
                print("  \(name): \(fmt(ratio, 2))x on \(result.threads) threads, \(one)x on 1 thread, \(same)")
            }
        }
    }
}
