import Foundation
import TetherCore

/// A read-only view of a decoded JSON value (`JSONSerialization`), for picking figures out of a
/// benchmark's `--json` report by key path.
public struct JSONObject: @unchecked Sendable {
    public let value: Any?

    public init(_ value: Any?) { self.value = value }

    public subscript(_ key: String) -> JSONObject { JSONObject((value as? [String: Any])?[key]) }
    public subscript(_ index: Int) -> JSONObject {
        guard let array = value as? [Any], array.indices.contains(index) else { return JSONObject(nil) }
        return JSONObject(array[index])
    }

    public var double: Double? { (value as? NSNumber)?.doubleValue ?? (value as? String).flatMap(Double.init) }
    public var string: String? { value as? String }
    public var array: [JSONObject] { (value as? [Any])?.map(JSONObject.init) ?? [] }
    public var keys: [String] { (value as? [String: Any]).map { Array($0.keys).sorted() } ?? [] }
}

/// What `tether bench all` runs, with which arguments, and which of each report's figures go
/// into the table. Reading the reports by key keeps every benchmark its own command (and its
/// own process); a renamed field shows up as a missing row, which the table notes.
public enum BenchAllPlan {
    /// Every benchmark, in the order they run (short ones first, the table fills early).
    public static let names = ["policy", "loop", "ros2", "sim", "calibrate", "validate", "coco", "detect", "render"]

    /// The benchmarks to run from `--only` / `--skip` lists.
    public static func select(only: String?, skip: String?) throws -> [String] {
        func list(_ text: String?, _ option: String) throws -> [String] {
            let items = (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            for item in items where !names.contains(item) {
                throw TetherError("unknown benchmark \"\(item)\"", at: option, hint: "the benchmarks are \(names.joined(separator: ", "))")
            }
            return items
        }
        let chosen = try list(only, "--only"), left = try list(skip, "--skip")
        let result = (chosen.isEmpty ? names : names.filter(chosen.contains)).filter { !left.contains($0) }
        guard !result.isEmpty else { throw TetherError("no benchmark left to run", at: "--skip", hint: "leave out fewer") }
        return result
    }

    /// Extra arguments of each benchmark: none (its defaults, the figures to quote), or fewer
    /// repetitions with `quick`.
    public static func arguments(_ name: String, quick: Bool) -> [String] {
        guard quick else { return [] }
        switch name {
        case "sim": return ["--environments", "8", "--steps", "200", "--repeats", "1"]
        case "policy": return ["--calls", "2000"]
        case "loop": return ["--ticks", "2000", "--seconds", "1"]
        case "ros2": return ["--count", "500", "--repeats", "1", "--seconds", "3"]
        case "validate": return ["--trials", "4", "--rounds", "1"]
        case "coco": return ["--images", "300", "--repeats", "1"]
        case "detect": return ["--frames", "20", "--warmup", "2"]
        case "render": return ["--frames", "20", "--size", "640x360"]
        default: return []
        }
    }

    /// The table's rows from one benchmark's JSON report.
    public static func rows(_ name: String, _ r: JSONObject) -> [BenchmarkRow] {
        func f(_ v: Double?, _ unit: String) -> String { v.map { "\(BenchmarkTable.figure($0)) \(unit)" } ?? "—" }
        switch name {
        case "policy":
            var rows: [BenchmarkRow] = []
            let lat = r["latencies"].array
            func median(_ runner: String) -> Double? { lat.first { $0["runner"].string == runner }?["medianMicroseconds"].double }
            let python = [median("python onnxruntime session.run"), median("python onnxruntime IO binding")].compactMap { $0 }.min()
            rows.append(BenchmarkRow(benchmark: name, measure: "MLP 48→256→128→12 call, median", tether: f(median("tether onnxruntime fast path"), "µs"),
                                     peer: "Python onnxruntime, faster of session.run / IO binding", peerFigure: f(python, "µs"),
                                     ratio: r["speedupOverPython"].double, ratioMeaning: "Python / Tether, higher is better"))
            if let compiled = median("tether compiled graph") {
                rows.append(BenchmarkRow(benchmark: name, measure: "MLP 48→256→128→12 call, Tether's compiled engine, median", tether: f(compiled, "µs"),
                                         peer: "Python onnxruntime, faster of session.run / IO binding", peerFigure: f(python, "µs"),
                                         ratio: r["compiledSpeedupOverPython"].double, ratioMeaning: "Python / Tether, higher is better"))
            }
            let rec = r["recurrentLatencies"].array
            if let tether = rec.first?["medianMicroseconds"].double {
                let peer = rec.dropFirst().compactMap { $0["medianMicroseconds"].double }.min()
                rows.append(BenchmarkRow(benchmark: name, measure: "LSTM 64 policy call, state carried, median", tether: f(tether, "µs"),
                                         peer: "Python onnxruntime, state fed back", peerFigure: f(peer, "µs"),
                                         ratio: r["recurrentSpeedupOverPython"].double, ratioMeaning: "Python / Tether, higher is better"))
            }
            rows.append(BenchmarkRow(benchmark: name, measure: "ARS training, quadruped physics steps/s",
                                     tether: f(r["trainingPhysicsStepsPerSecond"].double, "steps/s"), peer: "bare PD stepping, same episodes",
                                     peerFigure: f(r["bareSimulationStepsPerSecond"].double, "steps/s"), ratio: r["trainingEfficiency"].double,
                                     ratioMeaning: "training / bare, 1 = no overhead"))
            return rows
        case "loop":
            return [
                BenchmarkRow(benchmark: name, measure: "control tick (obs + policy + safety + recorder), median",
                             tether: f(r["tickMicroseconds"]["p50"].double, "µs"),
                             peer: "the same tick in Python (numpy + onnxruntime)", peerFigure: f(r["pythonTickMicroseconds"]["p50"].double, "µs"),
                             ratio: r["speedupOverPython"].double, ratioMeaning: "Python / Tether, higher is better", target: .atLeast(5)),
                BenchmarkRow(benchmark: name, measure: "control tick with the policy in ONNX Runtime, median",
                             tether: f(r["onnxRuntimeTickMicroseconds"]["p50"].double, "µs"),
                             peer: "the same tick in Python (numpy + onnxruntime)", peerFigure: f(r["pythonTickMicroseconds"]["p50"].double, "µs"),
                             ratio: ratio(r["pythonTickMicroseconds"]["p50"].double, r["onnxRuntimeTickMicroseconds"]["p50"].double),
                             ratioMeaning: "Python / Tether, higher is better"),
                BenchmarkRow(benchmark: name, measure: "control tick, p99.9", tether: f(r["tickMicroseconds"]["p999"].double, "µs"),
                             peer: "the same tick in Python", peerFigure: f(r["pythonTickMicroseconds"]["p999"].double, "µs"),
                             ratio: ratio(r["pythonTickMicroseconds"]["p999"].double, r["tickMicroseconds"]["p999"].double),
                             ratioMeaning: "Python / Tether, higher is better"),
            ]
        case "ros2":
            // Round trips: JointState is the control loop's budget (the target); images are reported.
            var rows = r["latency"].array.map { l in
                let name = l["name"].string ?? "?"
                return BenchmarkRow(benchmark: "ros2", measure: "\(name) round trip, \(Int(l["payloadBytes"].double ?? 0)) B, median",
                                    tether: f(l["tetherMedianMicroseconds"].double, "µs"), peer: "Cyclone ddsperf ping/pong, same payload and mode",
                                    peerFigure: f(l["ddsperfMedianMicroseconds"].double, "µs"), ratio: l["ratio"].double,
                                    ratioMeaning: "Tether / ddsperf, lower is better", target: name.hasPrefix("JointState") ? .atMost(1.2) : nil)
            }
            rows += r["throughput"].array.map { t in
                BenchmarkRow(benchmark: "ros2", measure: "\(t["name"].string ?? "?") one-way throughput",
                             tether: f(t["tetherMessagesPerSecond"].double, "msg/s"),
                             peer: "Cyclone ddsperf pub/sub, same payload", peerFigure: f(t["ddsperfMessagesPerSecond"].double, "msg/s"),
                             ratio: t["ratio"].double, ratioMeaning: "Tether / ddsperf, higher is better")
            }
            return rows
        case "sim":
            var rows: [BenchmarkRow] = []
            let lines = r["lines"].array
            for key in r["ratioToRollout"].keys {
                let parts = key.split(separator: " ")
                guard parts.count >= 2, let threads = Int(parts[1]) else { continue }
                func rate(_ runner: String) -> Double? {
                    lines.first { $0["robot"].string == String(parts[0]) && $0["runner"].string == runner && Int($0["threads"].double ?? -1) == threads }?[
                        "stepsPerSecond"].double
                }
                rows.append(BenchmarkRow(benchmark: name, measure: "\(key): physics steps/s", tether: f(rate("tether batch"), "steps/s"),
                                         peer: "mujoco.rollout", peerFigure: f(rate("mujoco.rollout (Python)"), "steps/s"),
                                         ratio: r["ratioToRollout"][key].double, ratioMeaning: "Tether / rollout, higher is better"))
            }
            return rows
        case "calibrate":
            return [BenchmarkRow(benchmark: name, measure: "\(r["robot"].string ?? "?") trajectory fit, \(r["parameters"].array.count) parameters, wall time",
                                 tether: f(r["tetherSeconds"].double, "s"), peer: "mujoco.sysid", peerFigure: f(r["peerSeconds"].double, "s"),
                                 ratio: r["speedup"].double, ratioMeaning: "sysid / Tether, higher is better")]
        case "validate":
            // One row per thread count; the target holds on each.
            return r["runs"].array.map { run in
                let threads = Int(run["threads"].double ?? 0)
                return BenchmarkRow(benchmark: name, measure: "validation gate, \(threads) thread\(threads == 1 ? "" : "s") (trials/s)",
                                    tether: f(run["gateTrialsPerSecond"].double, "trials/s"), peer: "bare replay of the same episodes' physics",
                                    peerFigure: f(run["bareTrialsPerSecond"].double, "trials/s"), ratio: run["ratio"].double,
                                    ratioMeaning: "gate / bare, 1 = no overhead", target: .atLeast(0.9))
            }
        case "coco":
            var rows: [BenchmarkRow] = []
            let threads = Int(r["threads"].double ?? 0)
            for peer in r["peers"].keys {
                let same = r["identical"][peer].value as? Bool == true ? "identical numbers" : "numbers differ"
                let images = r["images"].double.map { Int($0) } ?? 0
                rows.append(BenchmarkRow(benchmark: name, measure: "COCO bbox evaluation, \(images) images, \(threads) threads "
                    + "(\(same))", tether: f(r["tether"]["seconds"]["total"].double, "s"), peer: peer,
                    peerFigure: f(r["peers"][peer]["seconds"]["total"].double, "s"), ratio: r["speedup"][peer].double,
                    ratioMeaning: "\(peer) / Tether, higher is better"))
                rows.append(BenchmarkRow(benchmark: name, measure: "COCO bbox evaluation, Tether on 1 thread",
                                         tether: f(r["tetherOneThread"]["seconds"]["total"].double, "s"), peer: peer,
                                         peerFigure: f(r["peers"][peer]["seconds"]["total"].double, "s"), ratio: r["speedupOneThread"][peer].double,
                                         ratioMeaning: "\(peer) / Tether, higher is better"))
            }
            return rows
        case "detect":
            guard r["python"].value != nil else { return [] }
            return [BenchmarkRow(benchmark: name, measure: "detector frame (pre-process + ONNX + decode/NMS), median",
                                 tether: f(r["tether"]["total"].double, "ms"), peer: "Python pipeline (cv2/numpy + onnxruntime)",
                                 peerFigure: f(r["python"]["total"].double, "ms"), ratio: r["speedup"].double,
                                 ratioMeaning: "Python / Tether, higher is better")]
        case "render":
            let size = "\(Int(r["width"].double ?? 0))×\(Int(r["height"].double ?? 0))"
            var rows = [BenchmarkRow(benchmark: name, measure: "offscreen frames/s, quadruped \(size)",
                                     tether: f(r["tetherFramesPerSecond"].double, "frames/s"), peer: "MuJoCo's Python Renderer, same frames",
                                     peerFigure: f(r["pythonFramesPerSecond"].double, "frames/s"), ratio: r["ratio"].double,
                                     ratioMeaning: "Tether / Python, higher is better")]
            if r["pythonSegmentationFramesPerSecond"].double != nil {
                rows.append(BenchmarkRow(benchmark: name, measure: "camera ground truth (segmentation + boxes) frames/s, front camera \(size)",
                                         tether: f(r["tetherSegmentationFramesPerSecond"].double, "frames/s"),
                                         peer: "Python Renderer segmentation + numpy boxes",
                                         peerFigure: f(r["pythonSegmentationFramesPerSecond"].double, "frames/s"), ratio: r["segmentationRatio"].double,
                                         ratioMeaning: "Tether / Python, higher is better"))
            }
            return rows
        default:
            return []
        }
    }

    private static func ratio(_ a: Double?, _ b: Double?) -> Double? {
        guard let a, let b, b > 0 else { return nil }
        return a / b
    }
}
