import Foundation
import Testing
import TetherBench
import TetherCore
import TetherVision

@Suite struct COCOBenchmarkTests {
    @Test func benchmarkSetWithEightyCategoriesEqualsPycocotools() throws {
        // 80 categories make the AP mean a sum of 80 800 values: numpy's pairwise blocks matter.
        let python = try TetherPaths.python()
        let root = try #require(TetherPaths.checkoutRoot())
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tether-coco-bench-test-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = try COCOBenchmark(images: 300, seed: 3).generate(into: dir)
        let out = try TetherPaths.run(python, ["\(root)/benchmarks/coco_peer.py", "--gt", files.gt, "--dt", files.dt])
        let peers = try JSONDecoder().decode([String: COCOBenchmark.Run].self, from: Data(out.utf8))
        let mine = try COCOEvaluator.evaluate(groundTruthPath: files.gt, detectionsPath: files.dt)
        #expect(mine.stats == peers["pycocotools"]?.stats)
        for (a, b) in zip(mine.stats, peers["faster_coco_eval"]?.stats ?? []) { #expect(abs(a - b) <= 1e-12) }
        // Deterministic across runs (parallel evaluation writes fixed slots).
        #expect(try COCOEvaluator.evaluate(groundTruthPath: files.gt, detectionsPath: files.dt).stats == mine.stats)
    }
}
