import Foundation
import TetherCore
import TetherONNX
import TetherSim

/// One line of `tether bench all`'s table: a figure of Tether, its peer's figure measured in the
/// same run, and the ratio, with the direction in which the ratio is better.
public struct BenchmarkRow: Sendable, Codable {
    /// The `tether bench` subcommand that measured it (`ros2`, `loop`, …).
    public var benchmark: String
    /// What is measured ("JointState round trip, median").
    public var measure: String
    /// Tether's figure with its unit ("55.7 µs").
    public var tether: String
    /// The peer's name ("ddsperf ping/pong").
    public var peer: String
    /// The peer's figure with its unit.
    public var peerFigure: String
    /// The ratio as the benchmark defines it (see `ratioMeaning`).
    public var ratio: Double?
    /// "Tether / ddsperf, lower is better", "Python / Tether, higher is better", …
    public var ratioMeaning: String
    /// The figure the project holds itself to ("≤ 1.2"), if any.
    public var target: String?
    /// Whether `ratio` meets `target` (nil without a target or a ratio).
    public var met: Bool?

    public init(benchmark: String, measure: String, tether: String, peer: String, peerFigure: String, ratio: Double?, ratioMeaning: String,
                target: BenchmarkTarget? = nil) {
        self.benchmark = benchmark; self.measure = measure; self.tether = tether; self.peer = peer; self.peerFigure = peerFigure
        self.ratio = ratio; self.ratioMeaning = ratioMeaning
        self.target = target?.description
        self.met = target.flatMap { t in ratio.map { t.isMet(by: $0) } }
    }
}

/// A bound on a ratio: at most or at least a value.
public enum BenchmarkTarget: Sendable, CustomStringConvertible {
    case atMost(Double)
    case atLeast(Double)

    public func isMet(by ratio: Double) -> Bool {
        switch self {
        case .atMost(let v): ratio <= v
        case .atLeast(let v): ratio >= v
        }
    }

    public var description: String {
        switch self {
        case .atMost(let v): "≤ \(String(format: "%g", v))"
        case .atLeast(let v): "≥ \(String(format: "%g", v))"
        }
    }
}

/// Where and with what a table was measured: figures mean little without the machine, the
/// versions of both sides and the date.
public struct BenchmarkEnvironment: Sendable, Codable {
    public var date: String
    public var cpu: String
    public var cores: Int
    public var memoryGiB: Double
    public var kernel: String
    public var operatingSystem: String
    /// "release" or "debug": debug figures are not meaningful and the table says so.
    public var build: String
    /// The checkout's commit (with "+changes" when the work tree differs), if run from a checkout.
    public var commit: String?
    /// Library and peer versions: MuJoCo, ONNX Runtime, Cyclone DDS, Python and its packages.
    public var versions: [String: String]

    /// Reads the machine, the linked libraries and the venv's peers.
    public static func current() -> BenchmarkEnvironment {
        let formatter = ISO8601DateFormatter()
        var versions: [String: String] = ["mujoco": MuJoCo.version]
        if let ort = OnnxRuntime.version { versions["onnxruntime (Tether)"] = ort }
        if let dds = try? TetherPaths.run("/usr/bin/dpkg-query", ["-W", "-f=${Version}", "cyclonedds-dev"]), !dds.isEmpty {
            versions["cyclonedds (Debian)"] = dds.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let swift = try? TetherPaths.run("/usr/bin/env", ["swift", "--version"]),
           let line = swift.split(separator: "\n").first(where: { $0.contains("Swift version") }) {
            versions["swift"] = line.trimmingCharacters(in: .whitespaces)
        }
        if let root = TetherPaths.checkoutRoot(), let python = try? TetherPaths.python(),
           let out = try? TetherPaths.run(python, ["\(root)/benchmarks/versions.py"]),
           let peers = try? JSONDecoder().decode([String: String].self, from: Data(out.utf8)) {
            for (k, v) in peers { versions[k == "python" ? "python" : "\(k) (peer)"] = v }
        }
        var commit: String?
        if let root = TetherPaths.checkoutRoot(), let head = try? TetherPaths.run("/usr/bin/git", ["-C", root, "rev-parse", "--short=10", "HEAD"]) {
            let dirty = (try? TetherPaths.run("/usr/bin/git", ["-C", root, "status", "--porcelain", "--untracked-files=no"])) ?? ""
            commit = head.trimmingCharacters(in: .whitespacesAndNewlines) + (dirty.isEmpty ? "" : "+changes")
        }
        #if DEBUG
        let build = "debug"
        #else
        let build = "release"
        #endif
        return BenchmarkEnvironment(date: formatter.string(from: Date()), cpu: cpuModel(), cores: ProcessInfo.processInfo.activeProcessorCount,
                                    memoryGiB: (Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824 * 10).rounded() / 10,
                                    kernel: uname(), operatingSystem: osName(), build: build, commit: commit, versions: versions)
    }

    private static func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            return line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
        }
        return "unknown"
    }

    private static func osName() -> String {
        guard let text = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
            return String(line.dropFirst("PRETTY_NAME=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return "unknown"
    }

    private static func uname() -> String {
        var u = utsname()
        guard Glibc.uname(&u) == 0 else { return "unknown" }
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        }
        return "\(field(u.sysname)) \(field(u.release)) \(field(u.machine))"
    }
}

/// `tether bench all`'s result: every benchmark's rows, the environment, what could not be measured.
public struct BenchmarkTable: Sendable, Codable {
    public var environment: BenchmarkEnvironment
    public var rows: [BenchmarkRow]
    /// Benchmarks that failed or were skipped, with why.
    public var notes: [String]
    /// Wall time of the whole run, s.
    public var seconds: Double

    public init(environment: BenchmarkEnvironment, rows: [BenchmarkRow], notes: [String], seconds: Double) {
        self.environment = environment; self.rows = rows; self.notes = notes; self.seconds = seconds
    }

    /// A figure with 3 significant digits and no exponent for the sizes benchmarks produce.
    public static func figure(_ value: Double) -> String {
        guard value.isFinite else { return "\(value)" }
        let magnitude = abs(value)
        if magnitude >= 1000 { return String(format: "%.0f", value) }
        if magnitude >= 100 { return String(format: "%.1f", value) }
        if magnitude >= 10 { return String(format: "%.2f", value) }
        if magnitude >= 1 { return String(format: "%.2f", value) }
        return String(format: "%.3g", value)
    }

    /// The table as Markdown, ready to paste into the README: the environment first, then one
    /// line per row, then the notes.
    public func markdown() -> String {
        let e = environment
        var lines: [String] = []
        lines.append("Measured \(e.date) on \(e.cpu), \(e.cores) cores, \(String(format: "%.1f", e.memoryGiB)) GiB, \(e.operatingSystem) "
            + "(\(e.kernel)), \(e.build) build\(e.commit.map { " of \($0)" } ?? ""), in \(Int(seconds.rounded())) s.")
        lines.append("")
        lines.append("Versions: " + e.versions.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ".")
        lines.append("")
        lines.append("| benchmark | measure | Tether | peer | peer's figure | ratio | target |")
        lines.append("|---|---|---|---|---|---|---|")
        for r in rows {
            let ratio = r.ratio.map { "**\(BenchmarkTable.figure($0))** (\(r.ratioMeaning))" } ?? "— (\(r.ratioMeaning))"
            let target = r.target.map { t in "\(t) \(r.met == true ? "✓" : r.met == false ? "✗ not met" : "")" } ?? ""
            lines.append("| `bench \(r.benchmark)` | \(r.measure) | \(r.tether) | \(r.peer) | \(r.peerFigure) | \(ratio) | \(target) |")
        }
        if !notes.isEmpty {
            lines.append("")
            for n in notes { lines.append("- \(n)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
