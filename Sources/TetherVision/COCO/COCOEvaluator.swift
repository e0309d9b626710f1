import Foundation
import TetherCore

/// COCO bounding-box evaluation, the same numbers as pycocotools' `COCOeval(gt, dt, "bbox")`.
///
/// Reference: Lin et al., "Microsoft COCO: Common Objects in Context" (ECCV 2014), and the
/// evaluation protocol at https://cocodataset.org/#detection-eval, whose reference implementation
/// is pycocotools' `cocoeval.py`. The steps, named as there:
///
/// 1. **prepare**: group ground truth and detections by (image, category); crowd boxes are
///    ignored (pycocotools overwrites an `ignore` field with `iscrowd`, so only `iscrowd` counts).
/// 2. **computeIoU**: detections sorted by score (stable: ties keep file order), the best 100
///    kept; IoU of each with each ground truth, intersection over the detection's area for crowd.
/// 3. **evaluateImg**, per (image, category, area range): ground truth outside the range or
///    crowd is ignored and sorted last; each detection in score order takes the best remaining
///    ground truth with IoU ≥ t (a crowd box can be taken again; once a regular one is found an
///    ignored one is never preferred); a detection matched to an ignored box, or unmatched and
///    outside the area range, is ignored.
/// 4. **accumulate**, per (category, area range, maxDets): the first maxDets detections of each
///    image, in image-id order, stably sorted by score; cumulative TP / FP; precision made
///    non-increasing from the right and read at the first detection reaching each of 101 recall
///    thresholds; -1 where a category has no (non-ignored) ground truth.
/// 5. **summarize**: the 12 numbers, means over entries > -1 summed in numpy's pairwise order.
///
/// Cells (image, category) are evaluated in parallel and categories accumulated in parallel;
/// every task writes its own slots, so results do not depend on the number of threads
/// (`threads: 1` runs every step on the calling thread, as pycocotools does).
public enum COCOEvaluator {
    /// IoU thresholds 0.50, 0.55, …, 0.95, as `np.linspace(.5, .95, 10)` computes them.
    public static let iouThresholds: [Double] = linspace(0.5, 0.95, count: 10)
    /// Recall thresholds 0, 0.01, …, 1, as `np.linspace(0, 1, 101)` computes them.
    public static let recallThresholds: [Double] = linspace(0, 1, count: 101)
    /// Area ranges in pixels², `[lower, upper]` inclusive: all, small, medium, large.
    public static let areaRanges: [(name: String, lower: Double, upper: Double)] = [
        ("all", 0, 1e10), ("small", 0, 1024), ("medium", 1024, 9216), ("large", 9216, 1e10),
    ]
    /// Detections per image kept for the recall / precision figures.
    public static let maxDetections = [1, 10, 100]
    /// The 12 summary numbers, in pycocotools' order.
    public static let statNames = [
        "AP @[IoU=0.50:0.95 | area=all | maxDets=100]",
        "AP @[IoU=0.50 | area=all | maxDets=100]",
        "AP @[IoU=0.75 | area=all | maxDets=100]",
        "AP @[IoU=0.50:0.95 | area=small | maxDets=100]",
        "AP @[IoU=0.50:0.95 | area=medium | maxDets=100]",
        "AP @[IoU=0.50:0.95 | area=large | maxDets=100]",
        "AR @[IoU=0.50:0.95 | area=all | maxDets=1]",
        "AR @[IoU=0.50:0.95 | area=all | maxDets=10]",
        "AR @[IoU=0.50:0.95 | area=all | maxDets=100]",
        "AR @[IoU=0.50:0.95 | area=small | maxDets=100]",
        "AR @[IoU=0.50:0.95 | area=medium | maxDets=100]",
        "AR @[IoU=0.50:0.95 | area=large | maxDets=100]",
    ]

    /// Runs `body` for 0..<count: on the calling thread when `threads` is 1, else on Dispatch's
    /// pool (every core for 0, otherwise `threads` workers taking indices in turn).
    static func parallelFor(_ count: Int, threads: Int, _ body: @Sendable (Int) -> Void) {
        if threads == 1 || count <= 1 {
            for i in 0..<count { body(i) }
        } else if threads <= 0 || threads >= count {
            DispatchQueue.concurrentPerform(iterations: count, execute: body)
        } else {
            DispatchQueue.concurrentPerform(iterations: threads) { worker in
                for i in stride(from: worker, to: count, by: threads) { body(i) }
            }
        }
    }

    /// numpy's `linspace(start, stop, count)`: `i · step + start`, the last value exactly `stop`.
    static func linspace(_ start: Double, _ stop: Double, count: Int) -> [Double] {
        let step = (stop - start) / Double(count - 1)
        return (0..<count).map { $0 == count - 1 ? stop : Double($0) * step + start }
    }

    /// Loads both files and evaluates them; `timings.load` includes the parsing.
    /// - Parameter threads: worker threads of the evaluate and accumulate steps; 0 uses every core.
    public static func evaluate(groundTruthPath: String, detectionsPath: String, confidence: Double = 0.25,
                                threads: Int = 0) throws -> COCOEvaluation {
        let clock = ContinuousClock()
        let start = clock.now
        let gt = try COCOGroundTruth.load(path: groundTruthPath)
        let dt = try COCODetections.load(path: detectionsPath)
        let load = clock.now - start
        var result = try evaluate(groundTruth: gt, detections: dt, confidence: confidence, detectionsSource: detectionsPath, threads: threads)
        result.timings.load = load.seconds
        return result
    }

    /// Evaluates detections against ground truth.
    /// - Parameters:
    ///   - confidence: the score threshold for the true / false positive counts (IoU 0.5).
    ///   - detectionsSource: named in errors about unknown ids.
    ///   - threads: worker threads of the evaluate and accumulate steps; 0 uses every core.
    public static func evaluate(groundTruth gt: COCOGroundTruth, detections dets: COCODetections,
                                confidence: Double = 0.25, detectionsSource: String = "detections", threads: Int = 0) throws -> COCOEvaluation {
        let clock = ContinuousClock()
        let t0 = clock.now
        let T = iouThresholds.count, R = recallThresholds.count, A = areaRanges.count, M = maxDetections.count
        let maxDet = maxDetections[M - 1]

        // prepare: sorted ids (pycocotools' p.imgIds, p.catIds) and integer indices.
        let imageIDs = gt.imageIDs.sorted(), categoryIDs = gt.categories.map(\.id).sorted()
        let I = imageIDs.count, K = categoryIDs.count
        var imageIndex = [Int: Int32](minimumCapacity: I)
        for (i, id) in imageIDs.enumerated() { imageIndex[id] = Int32(i) }
        var categoryIndex = [Int: Int32](minimumCapacity: K)
        for (k, id) in categoryIDs.enumerated() { categoryIndex[id] = Int32(k) }

        let anns = gt.annotations, dts = dets.detections
        var gtCell = [Int](repeating: 0, count: anns.count)
        for (j, a) in anns.enumerated() {
            guard let i = imageIndex[a.imageID], let k = categoryIndex[a.categoryID] else {
                throw TetherError("annotation id \(a.id) refers to an unknown image or category",
                                  hint: "build the ground truth with COCOGroundTruth.init, which checks ids")
            }
            gtCell[j] = Int(k) * I + Int(i)
        }
        var dtCell = [Int](repeating: 0, count: dts.count)
        for (j, d) in dts.enumerated() {
            guard let i = imageIndex[d.imageID] else {
                throw TetherError("detection [\(j)]: image_id \(d.imageID) is not an image of the ground truth", at: detectionsSource,
                                  hint: "results must refer to images listed in the ground truth's images[] (pycocotools refuses them too); evaluate "
                                      + "against the ground truth the detections were made for")
            }
            guard let k = categoryIndex[d.categoryID] else {
                throw TetherError("detection [\(j)]: category_id \(d.categoryID) is not a category of the ground truth", at: detectionsSource,
                                  hint: "the ground truth's categories are "
                                      + "\(categoryIDs.prefix(12).map(String.init).joined(separator: ", "))\(K > 12 ? ", …" : ""); map the detector's class "
                                          + "indices to these ids")
            }
            guard d.box.width >= 0, d.box.height >= 0 else {
                throw TetherError("detection [\(j)] has a negative box size \(d.box.width) × \(d.box.height)", at: detectionsSource,
                                  hint: "COCO boxes are [x, y, width, height]")
            }
            guard !d.score.isNaN else { throw TetherError("detection [\(j)] has a NaN score", at: detectionsSource) }
            dtCell[j] = Int(k) * I + Int(i)
        }

        // Group by cell (category-major, then image: pycocotools' evalImgs order) with a
        // counting sort, which keeps file order inside a cell.
        let cellCount = K * I
        func group(_ keys: [Int]) -> (start: [Int32], order: [Int32]) {
            var start = [Int32](repeating: 0, count: cellCount + 1)
            for key in keys { start[key + 1] += 1 }
            for c in 0..<cellCount { start[c + 1] += start[c] }
            var fill = start
            var order = [Int32](repeating: 0, count: keys.count)
            for (j, key) in keys.enumerated() { order[Int(fill[key])] = Int32(j); fill[key] += 1 }
            return (start, order)
        }
        let (gtStart, gtOrder) = group(gtCell)
        let (dtStart, dtOrder) = group(dtCell)

        // The cells with any ground truth or detection (pycocotools' non-None evalImgs).
        var cells: [Int32] = []
        var catCellStart = [Int](repeating: 0, count: K + 1)
        var dtOffset: [Int] = [0]
        for key in 0..<cellCount where gtStart[key + 1] > gtStart[key] || dtStart[key + 1] > dtStart[key] {
            cells.append(Int32(key))
            catCellStart[key / I + 1] += 1
            dtOffset.append(dtOffset.last! + min(Int(dtStart[key + 1] - dtStart[key]), maxDet))
        }
        for k in 0..<K { catCellStart[k + 1] += catCellStart[k] }
        let C = cells.count, totalD = dtOffset[C]
        let cellKeys = cells, cellDtOffset = dtOffset, categoryCells = catCellStart

        // evaluateImg for every cell and area range. Outputs, by slot:
        //   cellDt[dtOffset[c] + d]       the d-th detection of cell c in score order
        //   flags[(a·T + t)·totalD + …]   bit 0: matched (to a ground truth with non-zero id), bit 1: ignored
        //   npig[a·C + c]                 non-ignored ground truth of cell c in range a
        var cellDt = [Int32](repeating: 0, count: totalD)
        var flags = [UInt8](repeating: 0, count: A * T * totalD)
        var npig = [Int32](repeating: 0, count: A * C)
        let thresholds = iouThresholds.map { min($0, 1 - 1e-10) }
        cellDt.withUnsafeMutableBufferPointer { cellDtBuffer in
            flags.withUnsafeMutableBufferPointer { flagsBuffer in
                npig.withUnsafeMutableBufferPointer { npigBuffer in
                    let out = (cellDt: SharedPointer(cellDtBuffer.baseAddress), flags: SharedPointer(flagsBuffer.baseAddress),
                               npig: SharedPointer(npigBuffer.baseAddress))
                    let chunk = max(64, C / 256)
                    let chunks = (C + chunk - 1) / chunk
                    parallelFor(chunks, threads: threads) { chunkIndex in
                        var scratch = CellScratch()
                        for c in (chunkIndex * chunk)..<min(C, (chunkIndex + 1) * chunk) {
                            let key = Int(cellKeys[c])
                            evaluateCell(c: c, gtRange: Int(gtStart[key])..<Int(gtStart[key + 1]), dtRange: Int(dtStart[key])..<Int(dtStart[key + 1]),
                                         gtOrder: gtOrder, dtOrder: dtOrder, anns: anns, dts: dts, dtOffset: cellDtOffset[c], C: C, totalD: totalD,
                                         thresholds: thresholds, out: out, scratch: &scratch)
                        }
                    }
                }
            }
        }
        let t1 = clock.now
        let cellDetections = cellDt, cellFlags = flags, regularCounts = npig

        // accumulate, per category in parallel.
        var precision = [Double](repeating: -1, count: T * R * K * A * M)
        var recall = [Double](repeating: -1, count: T * K * A * M)
        var scores = [Double](repeating: -1, count: T * R * K * A * M)
        var counts = [COCOConfidenceCounts](repeating: COCOConfidenceCounts(), count: K)
        precision.withUnsafeMutableBufferPointer { pBuf in
            recall.withUnsafeMutableBufferPointer { rBuf in
                scores.withUnsafeMutableBufferPointer { sBuf in
                    counts.withUnsafeMutableBufferPointer { cBuf in
                        let out = AccumulateOutput(precision: SharedPointer(pBuf.baseAddress), recall: SharedPointer(rBuf.baseAddress),
                                                   scores: SharedPointer(sBuf.baseAddress), counts: SharedPointer(cBuf.baseAddress))
                        parallelFor(K, threads: threads) { k in
                            accumulateCategory(k: k, K: K, cellRange: categoryCells[k]..<categoryCells[k + 1], dtOffset: cellDtOffset, cellDt: cellDetections,
                                               dts: dts, flags: cellFlags, npig: regularCounts, C: C, totalD: totalD, confidence: confidence, out: out)
                        }
                    }
                }
            }
        }
        let t2 = clock.now

        // summarize.
        let accumulation = COCOAccumulation(categoryIDs: categoryIDs, precision: precision, recall: recall, scores: scores)
        let stats = accumulation.stats()
        var perClass: [COCOClassResult] = []
        let names = Dictionary(gt.categories.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        var gtPerCategory = [Int](repeating: 0, count: K), dtPerCategory = [Int](repeating: 0, count: K)
        for a in anns where !a.isCrowd { gtPerCategory[Int(categoryIndex[a.categoryID]!)] += 1 }
        for key in dtCell { dtPerCategory[key / max(I, 1)] += 1 }
        for k in 0..<K {
            let ap = accumulation.meanPrecision(category: k)
            let ap50 = accumulation.meanPrecision(category: k, iou: 0)
            let ap75 = accumulation.meanPrecision(category: k, iou: 5)
            let ar = accumulation.meanRecall(category: k)
            var c = counts[k]
            c.finish(images: I)
            perClass.append(COCOClassResult(
                categoryID: categoryIDs[k], name: names[categoryIDs[k]] ?? "\(categoryIDs[k])",
                ap: ap, ap50: ap50, ap75: ap75, ar100: ar,
                groundTruth: gtPerCategory[k], detections: dtPerCategory[k],
                precision50: ap50 == nil ? nil : accumulation.curve(category: k, iou: 0),
                precision75: ap75 == nil ? nil : accumulation.curve(category: k, iou: 5),
                scores50: ap50 == nil ? nil : accumulation.curve(category: k, iou: 0, scores: true),
                atConfidence: c))
        }
        var overall = COCOConfidenceCounts()
        for c in counts { overall.truePositives += c.truePositives; overall.falsePositives += c.falsePositives; overall.groundTruth += c.groundTruth }
        overall.finish(images: I)
        let t3 = clock.now
        return COCOEvaluation(
            stats: stats, perClass: perClass, recallThresholds: recallThresholds, confidence: confidence,
            atConfidence: overall, images: I, groundTruthBoxes: anns.count, detections: dts.count,
            timings: COCOTimings(load: 0, evaluate: (t1 - t0).seconds, accumulate: (t2 - t1).seconds, summarize: (t3 - t2).seconds),
            accumulation: accumulation)
    }

    // MARK: evaluateImg

    struct CellScratch {
        var dt: [Int32] = []
        var ious: [Double] = []       // D × G, detection-major, ground truth in file order
        var gtSorted: [Int] = []      // positions into the cell's ground truth, non-ignored first
        var gtCrowd: [Bool] = [], gtArea: [Double] = [], gtIDNonZero: [Bool] = [], dtArea: [Double] = []
        var sortedIgnore: [Bool] = [], sortedCrowd: [Bool] = [], sortedIous: [Double] = []
        var taken: [Bool] = []
    }

    /// pycocotools' computeIoU and evaluateImg for one (image, category) and all area ranges.
    private static func evaluateCell(c: Int, gtRange: Range<Int>, dtRange: Range<Int>, gtOrder: [Int32], dtOrder: [Int32],
                                     anns: [COCOAnnotation], dts: [COCODetection], dtOffset: Int, C: Int, totalD: Int,
                                     thresholds: [Double], out: (cellDt: SharedPointer<Int32>, flags: SharedPointer<UInt8>, npig: SharedPointer<Int32>),
                                     scratch s: inout CellScratch) {
        let T = thresholds.count
        // Detections by score, highest first; ties in file order (numpy's stable mergesort).
        s.dt.removeAll(keepingCapacity: true)
        for j in dtRange { s.dt.append(dtOrder[j]) }
        s.dt.sort { a, b in
            let sa = dts[Int(a)].score, sb = dts[Int(b)].score
            return sa > sb || (sa == sb && a < b)
        }
        let D = min(s.dt.count, maxDetections.last!)
        for d in 0..<D { out.cellDt[dtOffset + d] = s.dt[d] }
        let G = gtRange.count

        // IoU exactly as pycocotools' bbIou (maskApi.c), operation for operation.
        s.ious.removeAll(keepingCapacity: true)
        s.ious.reserveCapacity(D * G)
        for d in 0..<D {
            let db = dts[Int(s.dt[d])].box
            let da = db.width * db.height
            for g in 0..<G {
                let a = anns[Int(gtOrder[gtRange.lowerBound + g])]
                let gb = a.box
                var iou = 0.0
                let w = min(db.width + db.x, gb.width + gb.x) - max(db.x, gb.x)
                if w > 0 {
                    let h = min(db.height + db.y, gb.height + gb.y) - max(db.y, gb.y)
                    if h > 0 {
                        let inter = w * h
                        let union = a.isCrowd ? da : da + gb.width * gb.height - inter
                        iou = inter / union
                    }
                }
                s.ious.append(iou)
            }
        }

        // Per ground truth, in file order: crowd, area, non-zero id.
        s.gtCrowd.removeAll(keepingCapacity: true); s.gtArea.removeAll(keepingCapacity: true); s.gtIDNonZero.removeAll(keepingCapacity: true)
        for g in 0..<G {
            let a = anns[Int(gtOrder[gtRange.lowerBound + g])]
            s.gtCrowd.append(a.isCrowd); s.gtArea.append(a.area); s.gtIDNonZero.append(a.id != 0)
        }
        s.dtArea.removeAll(keepingCapacity: true)
        for d in 0..<D { let box = dts[Int(s.dt[d])].box; s.dtArea.append(box.width * box.height) }

        for (areaIndex, range) in areaRanges.enumerated() {
            // Ground truth ignored when crowd or outside the range; ignored ones last (stable).
            s.gtSorted.removeAll(keepingCapacity: true)
            var regular: Int32 = 0
            for g in 0..<G where !(s.gtCrowd[g] || s.gtArea[g] < range.lower || s.gtArea[g] > range.upper) { s.gtSorted.append(g); regular += 1 }
            for g in 0..<G where s.gtCrowd[g] || s.gtArea[g] < range.lower || s.gtArea[g] > range.upper { s.gtSorted.append(g) }
            out.npig[areaIndex * C + c] = regular
            guard D > 0 else { continue }
            // The same data in sorted order, so the matching loop reads memory in sequence.
            s.sortedIgnore.removeAll(keepingCapacity: true); s.sortedCrowd.removeAll(keepingCapacity: true)
            for (position, g) in s.gtSorted.enumerated() { s.sortedIgnore.append(position >= Int(regular)); s.sortedCrowd.append(s.gtCrowd[g]) }
            s.sortedIous.removeAll(keepingCapacity: true)
            for d in 0..<D { for g in s.gtSorted { s.sortedIous.append(s.ious[d * G + g]) } }

            for (t, threshold) in thresholds.enumerated() {
                let base = (areaIndex * T + t) * totalD + dtOffset
                s.taken.removeAll(keepingCapacity: true)
                s.taken.append(contentsOf: repeatElement(false, count: G))
                for d in 0..<D {
                    var best = threshold
                    var m = -1
                    let row = d * G
                    for j in 0..<G {
                        if s.taken[j] && !s.sortedCrowd[j] { continue }
                        // Matched to a regular box already and only ignored ones are left.
                        if m > -1 && !s.sortedIgnore[m] && s.sortedIgnore[j] { break }
                        let iou = s.sortedIous[row + j]
                        if iou < best { continue }
                        best = iou
                        m = j
                    }
                    var flag: UInt8 = 0
                    if m > -1 {
                        s.taken[m] = true
                        if s.sortedIgnore[m] { flag |= 2 }
                        // pycocotools stores the ground truth's id and tests it for non-zero.
                        if s.gtIDNonZero[s.gtSorted[m]] { flag |= 1 }
                    }
                    if flag & 1 == 0 && (s.dtArea[d] < range.lower || s.dtArea[d] > range.upper) { flag |= 2 }
                    out.flags[base + d] = flag
                }
            }
        }
    }

    // MARK: accumulate

    struct AccumulateOutput: @unchecked Sendable {
        var precision: SharedPointer<Double>
        var recall: SharedPointer<Double>
        var scores: SharedPointer<Double>
        var counts: SharedPointer<COCOConfidenceCounts>
    }

    /// pycocotools' accumulate for one category, every area range and maxDets.
    private static func accumulateCategory(k: Int, K: Int, cellRange: Range<Int>, dtOffset: [Int], cellDt: [Int32], dts: [COCODetection],
                                           flags: [UInt8], npig: [Int32], C: Int, totalD: Int, confidence: Double, out: AccumulateOutput) {
        guard !cellRange.isEmpty else { return }
        let T = iouThresholds.count, R = recallThresholds.count, A = areaRanges.count, M = maxDetections.count
        // Concatenated detections of the category, images in id order: (slot, rank in image).
        var slots: [Int] = [], ranks: [Int] = [], score: [Double] = []
        for c in cellRange {
            for slot in dtOffset[c]..<dtOffset[c + 1] {
                slots.append(slot); ranks.append(slot - dtOffset[c]); score.append(dts[Int(cellDt[slot])].score)
            }
        }
        // Stable sort by score, highest first. Truncating each image to maxDets keeps the
        // relative order of the rest, so one sort serves all maxDets.
        var order = Array(0..<slots.count)
        order.sort { a, b in score[a] > score[b] || (score[a] == score[b] && a < b) }

        var rcStorage = [Double](repeating: 0, count: slots.count), prStorage = rcStorage
        var keptStorage = [Int](repeating: 0, count: slots.count)
        rcStorage.withUnsafeMutableBufferPointer { rc in prStorage.withUnsafeMutableBufferPointer { pr in keptStorage.withUnsafeMutableBufferPointer { kept in
        flags.withUnsafeBufferPointer { flags in
        for (m, maxDet) in maxDetections.enumerated() {
            var nd = 0
            for p in order where ranks[p] < maxDet { kept[nd] = slots[p]; nd += 1 }
            for a in 0..<A {
                var regular = 0
                for c in cellRange { regular += Int(npig[a * C + c]) }
                if regular == 0 { continue }
                let npigD = Double(regular)
                for t in 0..<T {
                    let base = (a * T + t) * totalD
                    var tp = 0, fp = 0
                    for i in 0..<nd {
                        let f = flags[base + kept[i]]
                        if f & 2 == 0 { if f & 1 != 0 { tp += 1 } else { fp += 1 } }
                        let tpD = Double(tp), fpD = Double(fp)
                        rc[i] = tpD / npigD
                        pr[i] = tpD / (fpD + tpD + Double.ulpOfOne)
                    }
                    out.recall[((t * K + k) * A + a) * M + m] = nd > 0 ? rc[nd - 1] : 0
                    if nd > 1 { for i in stride(from: nd - 1, to: 0, by: -1) where pr[i] > pr[i - 1] { pr[i - 1] = pr[i] } }
                    var i = 0
                    let block = (((k * A + a) * M + m) * T + t) * R
                    for (r, threshold) in recallThresholds.enumerated() {
                        while i < nd && rc[i] < threshold { i += 1 }
                        let index = block + r
                        out.precision[index] = i < nd ? pr[i] : 0
                        out.scores[index] = i < nd ? dts[Int(cellDt[kept[i]])].score : 0
                    }
                }
                if a == 0 && m == M - 1 {
                    var counts = COCOConfidenceCounts()
                    counts.groundTruth = regular
                    for i in 0..<nd where dts[Int(cellDt[kept[i]])].score >= confidence {
                        let f = flags[kept[i]]   // IoU 0.5, area all
                        if f & 2 == 0 { if f & 1 != 0 { counts.truePositives += 1 } else { counts.falsePositives += 1 } }
                    }
                    out.counts[k] = counts
                }
            }
        }
        } } } }
    }
}

/// A pointer shared by parallel tasks that each write their own slots.
struct SharedPointer<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
    init(_ base: UnsafeMutablePointer<T>?) { self.base = base ?? UnsafeMutablePointer<T>.allocate(capacity: 0) }
    subscript(i: Int) -> T {
        get { base[i] }
        nonmutating set { base[i] = newValue }
    }
}
