import Foundation
import TetherCore
import TetherVision

/// `tether bench coco`: a COCO-val-sized synthetic evaluation by Tether and, in the same run, by
/// pycocotools and faster-coco-eval (benchmarks/coco_peer.py).
///
/// Fairness: every tool gets the same best of `repeats` (the peers repeat inside their own
/// process, each repetition loading both files again as Tether does), and Tether is timed twice:
/// on every core, and on one thread, the like-for-like figure against the single-threaded peers.
public struct COCOBenchmark: Sendable {
    /// Images (COCO val 2017 has 5 000 with 36 781 boxes).
    public var images: Int
    public var seed: UInt64
    /// Timed runs of every tool; the fastest of each is reported.
    public var repeats: Int
    /// Peers to run (`pycocotools`, `faster_coco_eval`).
    public var peers: [String]

    public init(images: Int = 5000, seed: UInt64 = 1, repeats: Int = 3, peers: [String] = ["pycocotools", "faster_coco_eval"]) {
        self.images = images; self.seed = seed; self.repeats = repeats; self.peers = peers
    }

    /// One tool's stage times and numbers.
    public struct Run: Sendable, Codable {
        public var stats: [Double]
        public var seconds: [String: Double]
        public var total: Double { seconds["total"] ?? 0 }
    }

    public struct Result: Sendable, Codable {
        public var images: Int
        public var groundTruthBoxes: Int
        public var detections: Int
        public var threads: Int
        /// Timed runs of each tool (best kept).
        public var repeats: Int
        public var tether: Run
        /// Tether on one thread (the same evaluation with `threads: 1`).
        public var tetherOneThread: Run
        public var peers: [String: Run]
        /// Peer total time / Tether total time (Tether on every core).
        public var speedup: [String: Double]
        /// Peer total time / Tether's one-thread total time.
        public var speedupOneThread: [String: Double]
        /// Whether the 12 numbers are bit-identical to each peer's.
        public var identical: [String: Bool]
        /// The largest difference of the 12 numbers to each peer's.
        public var maxDifference: [String: Double]
    }

    /// Writes the synthetic ground truth and detections to `directory` and returns their paths.
    public func generate(into directory: String) throws -> (gt: String, dt: String, boxes: Int, detections: Int) {
        var rng = SeededRandom(seed: seed)
        // 80 category ids with COCO's gaps (1…90).
        let gaps: Set<Int> = [12, 26, 29, 30, 45, 66, 68, 69, 71, 83]
        let categories = (1...90).filter { !gaps.contains($0) }
        var gt = "{\"info\":{\"description\":\"tether bench coco, seed \(seed)\"},\"images\":["
        var imageIDs: [Int] = []
        for i in 0..<images {
            let id = 100 + i * 7 + Int(rng.next() % 5)   // sparse, like COCO's ids
            imageIDs.append(id)
            gt += (i > 0 ? "," : "") + "{\"id\":\(id),\"width\":640,\"height\":480,\"file_name\":\"\(id).jpg\"}"
        }
        gt += "],\"categories\":["
        gt += categories.enumerated().map { "{\"id\":\($1),\"name\":\"class\($1)\",\"supercategory\":\"thing\"}" }.joined(separator: ",")
        gt += "],\"annotations\":["
        var dt = "["
        var annotationID = 1, boxes = 0, detections = 0
        func r2(_ v: Double) -> Double { (v * 100).rounded() / 100 }
        func r3(_ v: Double) -> Double { (v * 1000).rounded() / 1000 }
        func detection(_ image: Int, _ category: Int, _ x: Double, _ y: Double, _ w: Double, _ h: Double, _ score: Double) {
            dt += (detections > 0 ? "," : "") + "{\"image_id\":\(image),\"category_id\":\(category),"
                + "\"bbox\":[\(r2(x)),\(r2(y)),\(r2(w)),\(r2(h))],\"score\":\(r3(score))}"
            detections += 1
        }
        for image in imageIDs {
            // About 7.3 objects per image, a few classes per image.
            let objects = Int(rng.uniform(0, 15.7))
            let classes = (0..<3).map { _ in categories[Int(rng.next() % UInt64(categories.count))] }
            for _ in 0..<objects {
                let category = classes[Int(rng.next() % 3)]
                // Log-uniform sizes: roughly COCO's 41 % small, 34 % medium, 25 % large.
                let side = exp(rng.uniform(log(6), log(400)))
                let aspect = exp(rng.uniform(-0.7, 0.7))
                let w = min(620, side * aspect), h = min(460, side / aspect)
                let x = rng.uniform(0, 640 - w), y = rng.uniform(0, 480 - h)
                let crowd = rng.uniform() < 0.01
                let area = r2(w * h * rng.uniform(0.55, 0.9))   // a segmentation's area, below the box's
                gt += (boxes > 0 ? "," : "") + "{\"id\":\(annotationID),\"image_id\":\(image),\"category_id\":\(category),"
                    + "\"bbox\":[\(r2(x)),\(r2(y)),\(r2(w)),\(r2(h))],\"area\":\(area),\"iscrowd\":\(crowd ? 1 : 0),"
                    + "\"segmentation\":[[\(r2(x)),\(r2(y)),\(r2(x + w)),\(r2(y)),\(r2(x + w)),\(r2(y + h))]]}"
                annotationID += 1; boxes += 1
                // Found with a noisy box (smaller objects are found less often), sometimes twice.
                let found = rng.uniform() < (side < 32 ? 0.6 : 0.9)
                let copies = found ? (rng.uniform() < 0.3 ? 2 : 1) : 0
                for copy in 0..<copies {
                    let noise = copy == 0 ? 0.08 : 0.2
                    let nw = max(1, w * (1 + rng.gaussian(standardDeviation: noise))), nh = max(1, h * (1 + rng.gaussian(standardDeviation: noise)))
                    let score = copy == 0 ? 0.3 + 0.7 * pow(rng.uniform(), 0.5) : 0.05 + 0.5 * rng.uniform()
                    detection(image, rng.uniform() < 0.93 ? category : categories[Int(rng.next() % UInt64(categories.count))],
                              x + rng.gaussian(standardDeviation: noise * w), y + rng.gaussian(standardDeviation: noise * h), nw, nh, score)
                }
            }
            // False positives: low scores mostly, on the image's classes and others.
            let spurious = Int(rng.uniform(0, 26))
            for _ in 0..<spurious {
                let side = exp(rng.uniform(log(4), log(300)))
                let w = min(620, side), h = min(460, side * exp(rng.uniform(-0.5, 0.5)))
                let category = rng.uniform() < 0.6 ? classes[Int(rng.next() % 3)] : categories[Int(rng.next() % UInt64(categories.count))]
                detection(image, category, rng.uniform(0, 640 - w), rng.uniform(0, 480 - h), w, h, 0.01 + 0.6 * pow(rng.uniform(), 2.5))
            }
        }
        gt += "]}"
        dt += "]"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let gtPath = "\(directory)/instances_bench.json", dtPath = "\(directory)/detections_bench.json"
        do {
            try gt.write(toFile: gtPath, atomically: false, encoding: .utf8)
            try dt.write(toFile: dtPath, atomically: false, encoding: .utf8)
        } catch {
            throw TetherError("cannot write the benchmark files: \(error.localizedDescription)", at: directory)
        }
        return (gtPath, dtPath, boxes, detections)
    }

    /// Generates the set into a temporary directory, evaluates it with Tether (best of
    /// `repeats`) and with each peer, and compares.
    /// - Parameter keepIn: a directory to keep the generated files in (else a temporary one, removed).
    public func run(keepIn: String? = nil, log: (String) -> Void) throws -> Result {
        let dir = keepIn ?? FileManager.default.temporaryDirectory.appendingPathComponent("tether-bench-coco-\(getpid())").path
        defer { if keepIn == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let files = try generate(into: dir)
        log("  synthetic set: \(images) images, \(files.boxes) boxes, \(files.detections) detections, 80 categories (seed \(seed))")

        let threads = ProcessInfo.processInfo.activeProcessorCount
        let tether = try timed(files, threads: 0)
        log(line("tether (\(threads) threads)", tether))
        let oneThread = try timed(files, threads: 1)
        log(line("tether (1 thread)", oneThread))

        var peerRuns: [String: Run] = [:]
        if !peers.isEmpty {
            let python = try TetherPaths.python()
            guard let root = TetherPaths.checkoutRoot() else { throw TetherError("cannot find benchmarks/coco_peer.py",
                                                                                 hint: "run from the Tether checkout or set TETHER_HOME") }
            for peer in peers {
                let out = try TetherPaths.run(python, ["\(root)/benchmarks/coco_peer.py", "--gt", files.gt, "--dt", files.dt, "--tools", peer,
                                                       "--repeats", "\(max(1, repeats))"])
                guard let run = try? JSONDecoder().decode([String: Run].self, from: Data(out.utf8))[peer] else {
                    throw TetherError("benchmarks/coco_peer.py printed no result for \(peer)",
                                      hint: "run it by hand: \(python) benchmarks/coco_peer.py --gt \(files.gt) --dt \(files.dt)")
                }
                peerRuns[peer] = run
                log(line(peer, run))
            }
        }
        var speedup: [String: Double] = [:], speedupOne: [String: Double] = [:], identical: [String: Bool] = [:], difference: [String: Double] = [:]
        for (name, run) in peerRuns {
            speedup[name] = run.total / tether.total
            speedupOne[name] = run.total / oneThread.total
            identical[name] = run.stats == tether.stats
            difference[name] = zip(run.stats, tether.stats).map { abs($0 - $1) }.max() ?? 0
        }
        guard oneThread.stats == tether.stats else {
            throw TetherError("Tether's one-thread evaluation gave other numbers than its \(threads)-thread one",
                              hint: "this is a bug: the evaluator's tasks must write disjoint slots; report it with the seed \(seed)")
        }
        return Result(images: images, groundTruthBoxes: files.boxes, detections: files.detections, threads: threads, repeats: max(1, repeats),
                      tether: tether, tetherOneThread: oneThread, peers: peerRuns, speedup: speedup, speedupOneThread: speedupOne,
                      identical: identical, maxDifference: difference)
    }

    /// Tether's best of `repeats` evaluations (files loaded each time), with `threads` workers.
    private func timed(_ files: (gt: String, dt: String, boxes: Int, detections: Int), threads: Int) throws -> Run {
        var best: COCOEvaluation?
        for _ in 0..<max(1, repeats) {
            let start = ContinuousClock.now
            var e = try COCOEvaluator.evaluate(groundTruthPath: files.gt, detectionsPath: files.dt, threads: threads)
            let wall = (ContinuousClock.now - start).seconds
            e.timings.summarize += max(0, wall - e.timings.total)   // per-class figures and the rest
            if best == nil || e.timings.total < best!.timings.total { best = e }
        }
        let t = best!.timings
        return Run(stats: best!.stats, seconds: ["load": t.load, "evaluate": t.evaluate, "accumulate": t.accumulate, "summarize": t.summarize,
                                                 "total": t.total])
    }

    private func line(_ name: String, _ run: Run) -> String {
        func s(_ key: String) -> String { String(format: "%7.3f", run.seconds[key] ?? .nan) }
        return "  \(name.padding(toLength: 20, withPad: " ", startingAt: 0)) load \(s("load")) s  evaluate \(s("evaluate")) s  accumulate "
            + "\(s("accumulate")) s  summarize \(s("summarize")) s  total \(s("total")) s  mAP \(String(format: "%.4f", run.stats.first ?? .nan))"
    }
}
