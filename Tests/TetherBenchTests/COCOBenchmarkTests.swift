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
        // Deterministic across runs and thread counts (parallel evaluation writes fixed slots): the
        // one-thread figure `bench coco` quotes is the same evaluation.
        #expect(try COCOEvaluator.evaluate(groundTruthPath: files.gt, detectionsPath: files.dt).stats == mine.stats)
        for threads in [1, 3] {
            let e = try COCOEvaluator.evaluate(groundTruthPath: files.gt, detectionsPath: files.dt, threads: threads)
            #expect(e.stats == mine.stats, "threads: \(threads)")
            #expect(e.perClass == mine.perClass, "threads: \(threads)")
        }
    }

    @Test func peersAreTimedBestOfTheSameRepeats() throws {
        // coco_peer.py keeps the fastest of --repeats complete runs, as Tether's side does.
        let python = try TetherPaths.python()
        let root = try #require(TetherPaths.checkoutRoot())
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tether-coco-repeats-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = try COCOBenchmark(images: 40, seed: 5).generate(into: dir)
        let out = try TetherPaths.run(python, ["\(root)/benchmarks/coco_peer.py", "--gt", files.gt, "--dt", files.dt, "--tools", "pycocotools",
                                               "--repeats", "2"])
        let peers = try JSONDecoder().decode([String: COCOBenchmark.Run].self, from: Data(out.utf8))
        #expect(peers["pycocotools"]?.stats == (try COCOEvaluator.evaluate(groundTruthPath: files.gt, detectionsPath: files.dt, threads: 1).stats))
        #expect(throws: (any Error).self) {
            try TetherPaths.run(python, ["\(root)/benchmarks/coco_peer.py", "--gt", files.gt, "--dt", files.dt, "--tools", "detectron"])
        }
    }
}

@Suite struct BenchAllPlanTests {
    @Test func selectionNamesWhatIsUnknown() throws {
        #expect(try BenchAllPlan.select(only: "ros2, loop", skip: nil) == ["loop", "ros2"])
        #expect(try BenchAllPlan.select(only: nil, skip: "coco,detect") == ["policy", "loop", "ros2", "sim", "calibrate", "validate", "render"])
        #expect(throws: TetherError.self) { try BenchAllPlan.select(only: "gpu", skip: nil) }
        #expect(throws: TetherError.self) { try BenchAllPlan.select(only: "ros2", skip: "ros2") }
    }

    @Test func rowsCarryTheRatioAndWhetherTheTargetIsMet() throws {
        let report = JSONObject(try JSONSerialization.jsonObject(with: Data("""
            {"latency": [{"name": "JointState (12 joints), handler", "payloadBytes": 480, "tetherMedianMicroseconds": 40.0,
                          "ddsperfMedianMicroseconds": 30.0, "ratio": 1.333}], "throughput": []}
            """.utf8)))
        let rows = BenchAllPlan.rows("ros2", report)
        #expect(rows.count == 1)
        #expect(rows.first?.ratio == 1.333)
        #expect(rows.first?.met == false)
        #expect(rows.first?.tether == "40.00 µs")
        let table = BenchmarkTable(environment: .current(), rows: rows, notes: ["bench sim failed: x"], seconds: 1)
        let markdown = table.markdown()
        #expect(markdown.contains("| `bench ros2` |"))
        #expect(markdown.contains("≤ 1.2 ✗ not met"))
        #expect(markdown.contains("- bench sim failed: x"))
        #expect(table.environment.versions["mujoco"] != nil)
    }
}
