import Foundation
import TetherCore
import Yams

/// What a detector's ONNX metadata (Ultralytics' export writes `names`, `imgsz`, `stride`, `task`)
/// says about it.
public struct DetectorMetadata: Sendable, Equatable {
    /// Class names by class index.
    public var names: [String]?
    /// Input size, `[height, width]` as Ultralytics writes `imgsz`.
    public var imageSize: [Int]?
    /// The largest stride of the model.
    public var stride: Int?

    /// Reads the keys Tether uses from a model's metadata; unparseable values are errors naming the key.
    public init(_ metadata: [String: String], source: String = "model metadata") throws {
        if let text = metadata["names"] {
            names = try ClassNames.parse(text, source: "\(source) key 'names'")
        }
        if let text = metadata["imgsz"] {
            guard let sizes = ClassNames.parseIntegers(text), !sizes.isEmpty, sizes.allSatisfy({ $0 > 0 }) else {
                throw TetherError("cannot read the input size '\(text)'", at: "\(source) key 'imgsz'",
                                  hint: "expected [height, width] or one number; pass --imgsz")
            }
            imageSize = sizes.count == 1 ? [sizes[0], sizes[0]] : Array(sizes.prefix(2))
        }
        if let text = metadata["stride"], let s = ClassNames.parseIntegers(text)?.first { stride = s }
    }
}

/// Class names from a model's metadata or from a file.
public enum ClassNames {
    /// Parses a list of class names written as a Python dict literal (`{0: 'cube', 1: "ball"}`,
    /// Ultralytics' metadata), a Python / JSON list (`['cube', 'ball']`), a JSON object
    /// (`{"0": "cube"}`) or YAML (a list, or a map from index to name). Indices must cover
    /// 0..<n exactly once.
    public static func parse(_ text: String, source: String) throws -> [String] {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("{") || trimmed.hasPrefix("[") {
            if let pairs = parseLiteral(trimmed) { return try ordered(pairs, source: source) }
        }
        // YAML also covers JSON and block lists / maps.
        if let value = try? Yams.load(yaml: trimmed) {
            if let list = value as? [Any] { return try list.map { try scalarName($0, source: source) } }
            if let map = value as? [AnyHashable: Any] {
                if let inner = map["names"] { return try parse(try Yams.dump(object: inner), source: source) }
                var pairs: [(Int, String)] = []
                for (k, v) in map {
                    guard let i = Int("\(k)") else {
                        throw TetherError("class names must be indexed by integers, found key '\(k)'", at: source)
                    }
                    pairs.append((i, try scalarName(v, source: source)))
                }
                return try ordered(pairs, source: source)
            }
        }
        throw TetherError("cannot read class names from '\(trimmed.prefix(80))'", at: source,
                          hint: "write a list (['cube', 'ball']), a map ({0: 'cube', 1: 'ball'}) or one name per line")
    }

    /// Reads class names from a file: YAML (a list, a map, or a dataset file with `names:`),
    /// JSON, or plain text with one name per line (blank lines ignored).
    public static func read(path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TetherError("cannot read the class names file", at: path, hint: "check the --names path")
        }
        let text = String(decoding: data, as: UTF8.self)
        let ext = (path as NSString).pathExtension.lowercased()
        if ["yaml", "yml", "json"].contains(ext) { return try parse(text, source: path) }
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !lines.isEmpty else { throw TetherError("the class names file is empty", at: path) }
        return lines
    }

    /// Integers in text such as `[320, 320]`, `(640,)` or `32`; nil when anything else appears.
    public static func parseIntegers(_ text: String) -> [Int]? {
        let inner = text.trimmingCharacters(in: CharacterSet(charactersIn: " \t\n[]()"))
        if inner.isEmpty { return [] }
        var out: [Int] = []
        for part in inner.split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            guard let v = Int(t) ?? Double(t).flatMap({ $0 == $0.rounded() ? Int($0) : nil }) else { return nil }
            out.append(v)
        }
        return out
    }

    /// A class name: a string (or a number or boolean YAML read as one), never a list or map.
    private static func scalarName(_ value: Any, source: String) throws -> String {
        switch value {
        case let s as String: return s
        case let i as Int: return String(i)
        case let d as Double: return String(d)
        case let b as Bool: return String(b)
        default:
            throw TetherError("a class name must be a string, found \(String(describing: value).prefix(60))", at: source,
                              hint: "write a list of names (['cube', 'ball']), a map of index to name, or one name per line")
        }
    }

    private static func ordered(_ pairs: [(Int, String)], source: String) throws -> [String] {
        var names = [String?](repeating: nil, count: pairs.count)
        for (i, name) in pairs {
            guard i >= 0, i < pairs.count else {
                throw TetherError("class index \(i) is outside 0..<\(pairs.count)", at: source, hint: "indices must run from 0 without gaps")
            }
            guard names[i] == nil else { throw TetherError("class index \(i) appears twice", at: source) }
            names[i] = name
        }
        return names.map { $0! }
    }

    /// A small reader of Python literals: a list of strings, or a dict of integer keys to
    /// strings, with single or double quotes and backslash escapes. Returns (index, name) pairs.
    static func parseLiteral(_ text: String) -> [(Int, String)]? {
        var scanner = LiteralScanner(Array(text.unicodeScalars))
        return scanner.collection()
    }
}

private struct LiteralScanner {
    let s: [Unicode.Scalar]
    var i = 0
    init(_ s: [Unicode.Scalar]) { self.s = s }

    mutating func skipSpace() { while i < s.count, s[i].properties.isWhitespace { i += 1 } }

    mutating func eat(_ c: Unicode.Scalar) -> Bool {
        skipSpace()
        if i < s.count, s[i] == c { i += 1; return true }
        return false
    }

    mutating func string() -> String? {
        skipSpace()
        guard i < s.count, s[i] == "'" || s[i] == "\"" else { return nil }
        let quote = s[i]; i += 1
        var out = String.UnicodeScalarView()
        while i < s.count {
            let c = s[i]; i += 1
            if c == quote { return String(out) }
            if c == "\\", i < s.count {
                let e = s[i]; i += 1
                switch e {
                case "n": out.append("\n")
                case "t": out.append("\t")
                default: out.append(e)
                }
            } else {
                out.append(c)
            }
        }
        return nil
    }

    mutating func integer() -> Int? {
        skipSpace()
        var digits = ""
        if i < s.count, s[i] == "-" { digits.append("-"); i += 1 }
        while i < s.count, s[i].properties.numericType != nil, ("0"..."9").contains(s[i]) { digits.unicodeScalars.append(s[i]); i += 1 }
        return Int(digits)
    }

    mutating func collection() -> [(Int, String)]? {
        var pairs: [(Int, String)] = []
        if eat("[") {
            if eat("]") { return end() ? pairs : nil }
            repeat {
                skipSpace()
                if i < s.count, s[i] == "]" { break }  // trailing comma
                guard let name = string() else { return nil }
                pairs.append((pairs.count, name))
            } while eat(",")
            return eat("]") && end() ? pairs : nil
        }
        if eat("{") {
            if eat("}") { return end() ? pairs : nil }
            repeat {
                skipSpace()
                if i < s.count, s[i] == "}" { break }
                let key: Int?
                if let k = integer() { key = k } else if let k = string() { key = Int(k) } else { key = nil }
                guard let key, eat(":"), let name = string() else { return nil }
                pairs.append((key, name))
            } while eat(",")
            return eat("}") && end() ? pairs : nil
        }
        return nil
    }

    mutating func end() -> Bool { skipSpace(); return i == s.count }
}
