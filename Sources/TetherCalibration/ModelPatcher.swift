import Foundation
import TetherCore
import TetherSim

/// Writes calibrated values into a robot description, touching only the attributes that change:
/// every other byte of the file (comments, formatting, order, defaults) stays as it was, so the
/// patch reads as a small diff and stays under version control.
///
/// MJCF (MuJoCo XML):
/// - `body[B].mass`, `.com`, `.inertia` → the `<inertial>` of `<body name="B">` (`mass`, `pos`,
///   `diaginertia`; a `fullinertia` body is refused: rotate and diagonalize first);
/// - `joint[J].damping`, `.frictionloss`, `.armature`, `.stiffness` → attributes of
///   `<joint name="J">` (added when the value came from a default class: the joint's own
///   attribute then overrides the class);
/// - `geom[G].friction` → `<geom name="G" friction>`;
/// - `actuator[A].gain` → `gear` … not patched: actuator gains are reported only.
///
/// URDF: `body[B]` → `<link name="B">`'s `<inertial>` (`<mass value>`, `<origin xyz>`,
/// `<inertia ixx iyy izz>` with the off-diagonal terms set to zero); `joint[J].damping` and
/// `.frictionloss` → `<joint name="J">`'s `<dynamics damping friction>` (added when missing).
/// Armature and geom friction have no URDF attribute: they are listed as not written.
public struct ModelPatcher: Sendable {
    /// A value to write.
    public struct Change: Sendable, Equatable {
        public var parameter: SimParameter
        public var values: [Double]
        public init(parameter: SimParameter, values: [Double]) {
            self.parameter = parameter
            self.values = values
        }
    }

    /// The patched text, the changed lines (for a readable diff) and what could not be written.
    public struct Result: Sendable {
        public var text: String
        public var diff: [String]
        public var notWritten: [String]
    }

    public enum Format: String, Sendable { case mjcf, urdf }

    public init() {}

    /// Patches `text` (the file at `source`, for messages).
    public func patch(_ text: String, format: Format, changes: [Change], source: String) throws -> Result {
        var doc = text
        var notWritten: [String] = []
        for change in changes {
            let formatted = change.values.map(Self.number).joined(separator: " ")
            switch (format, change.parameter) {
            case (.mjcf, .bodyMass(let b)), (.mjcf, .bodyCenterOfMass(let b)), (.mjcf, .bodyInertia(let b)):
                guard let body = Self.findTag(in: doc, element: "body", name: b) else {
                    throw TetherError("body '\(b)' is not in the model", at: source, hint: "the parameter \(change.parameter) names a body of the MJCF")
                }
                guard let inertial = Self.findChildTag(in: doc, after: body, element: "inertial", container: "body") else {
                    throw TetherError("body '\(b)' has no <inertial> element (its mass comes from its geoms)", at: source,
                                      hint: "give the body an explicit <inertial> to calibrate its mass, centre of mass or inertia")
                }
                let attribute: String
                switch change.parameter {
                case .bodyMass: attribute = "mass"
                case .bodyCenterOfMass: attribute = "pos"
                default:
                    if Self.attribute("fullinertia", in: String(doc[inertial])) != nil {
                        throw TetherError("body '\(b)' has a fullinertia", at: source,
                                          hint: "only diaginertia is patched; diagonalize the inertia (pos/quat) first")
                    }
                    attribute = "diaginertia"
                }
                doc = Self.setting(attribute, to: formatted, in: doc, tag: inertial)
            case (.mjcf, .jointDamping(let j)), (.mjcf, .jointFrictionLoss(let j)), (.mjcf, .jointArmature(let j)), (.mjcf, .jointStiffness(let j)):
                guard let tag = Self.findTag(in: doc, element: "joint", name: j) else {
                    throw TetherError("joint '\(j)' is not in the model", at: source, hint: "the parameter \(change.parameter) names a joint of the MJCF")
                }
                doc = Self.setting(Self.mjcfField(change.parameter), to: formatted, in: doc, tag: tag)
            case (.mjcf, .geomFriction(let g)):
                guard let tag = Self.findTag(in: doc, element: "geom", name: g) else {
                    throw TetherError("geom '\(g)' is not in the model", at: source, hint: "name the geom in the MJCF to calibrate its friction")
                }
                doc = Self.setting("friction", to: formatted, in: doc, tag: tag)
            case (.urdf, .bodyMass(let b)), (.urdf, .bodyCenterOfMass(let b)), (.urdf, .bodyInertia(let b)):
                guard let link = Self.findTag(in: doc, element: "link", name: b) else {
                    throw TetherError("link '\(b)' is not in the URDF", at: source, hint: "URDF links must have the MJCF bodies' names")
                }
                guard let inertial = Self.findChildTag(in: doc, after: link, element: "inertial", container: "link") else {
                    throw TetherError("link '\(b)' has no <inertial>", at: source, hint: "add an <inertial> with mass, origin and inertia")
                }
                let (element, attrs): (String, [(String, String)])
                switch change.parameter {
                case .bodyMass: (element, attrs) = ("mass", [("value", formatted)])
                case .bodyCenterOfMass: (element, attrs) = ("origin", [("xyz", formatted)])
                default:
                    let v = change.values.map(Self.number)
                    (element, attrs) = ("inertia", [("ixx", v[0]), ("iyy", v[1]), ("izz", v[2]), ("ixy", "0"), ("ixz", "0"), ("iyz", "0")])
                }
                guard let tag = Self.findChildTag(in: doc, after: inertial, element: element, container: "inertial") else {
                    throw TetherError("link '\(b)''s <inertial> has no <\(element)>", at: source, hint: "add <\(element)> to the inertial")
                }
                for (a, v) in attrs {
                    let current = Self.findChildTag(in: doc, after: inertial, element: element, container: "inertial") ?? tag
                    doc = Self.setting(a, to: v, in: doc, tag: current)
                }
            case (.urdf, .jointDamping(let j)), (.urdf, .jointFrictionLoss(let j)):
                guard let joint = Self.findTag(in: doc, element: "joint", name: j) else {
                    throw TetherError("joint '\(j)' is not in the URDF", at: source, hint: "URDF joints must have the MJCF joints' names")
                }
                let attribute = change.parameter == .jointDamping(j) ? "damping" : "friction"
                if let dynamics = Self.findChildTag(in: doc, after: joint, element: "dynamics", container: "joint") {
                    doc = Self.setting(attribute, to: formatted, in: doc, tag: dynamics)
                } else {
                    // Insert <dynamics .../> right after the joint's start tag, indented like its children.
                    let indent = Self.indentation(of: joint, in: doc) + "  "
                    doc.insert(contentsOf: "\n\(indent)<dynamics \(attribute)=\"\(formatted)\"/>", at: joint.upperBound)
                }
            default:
                notWritten.append("\(change.parameter) (no \(format.rawValue.uppercased()) attribute)")
            }
        }
        return Result(text: doc, diff: Self.diff(old: text, new: doc), notWritten: notWritten)
    }

    // MARK: text helpers

    static func number(_ v: Double) -> String {
        if v == 0 { return "0" }
        var s = String(format: "%.6g", v)
        if s.contains("e") { return s }
        if s.contains(".") { while s.hasSuffix("0") { s.removeLast() }; if s.hasSuffix(".") { s.removeLast() } }
        return s
    }

    static func mjcfField(_ p: SimParameter) -> String {
        switch p {
        case .jointDamping: "damping"
        case .jointFrictionLoss: "frictionloss"
        case .jointArmature: "armature"
        default: "stiffness"
        }
    }

    /// The range of the start tag `<element ... name="name" ...>` (outside comments).
    static func findTag(in doc: String, element: String, name: String) -> Range<String.Index>? {
        var search = doc.startIndex..<doc.endIndex
        while let open = doc.range(of: "<\(element)", range: search) {
            search = open.upperBound..<doc.endIndex
            guard let next = doc[open.upperBound...].first, next == " " || next == "\n" || next == "\t" || next == "/" || next == ">" else { continue }
            if Self.insideComment(open.lowerBound, in: doc) { continue }
            guard let close = doc.range(of: ">", range: open.upperBound..<doc.endIndex) else { return nil }
            let tag = open.lowerBound..<close.upperBound
            if attribute("name", in: String(doc[tag])) == name { return tag }
        }
        return nil
    }

    /// The first `<element>` start tag after `parent` and before the parent's next sibling or
    /// nested `<container>` (a child of that element, not of a nested one).
    static func findChildTag(in doc: String, after parent: Range<String.Index>, element: String, container: String) -> Range<String.Index>? {
        if doc[parent].hasSuffix("/>") { return nil }
        var i = parent.upperBound
        var depth = 0
        while let open = doc.range(of: "<", range: i..<doc.endIndex) {
            guard let close = doc.range(of: ">", range: open.upperBound..<doc.endIndex) else { return nil }
            let tag = doc[open.lowerBound..<close.upperBound]
            i = close.upperBound
            if tag.hasPrefix("<!--") {
                if let end = doc.range(of: "-->", range: open.upperBound..<doc.endIndex) { i = end.upperBound }
                continue
            }
            let name = tag.dropFirst(tag.hasPrefix("</") ? 2 : 1).prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            if tag.hasPrefix("</") {
                if depth == 0 { return nil }          // end of the parent
                depth -= 1
                continue
            }
            if depth == 0 && name == element { return open.lowerBound..<close.upperBound }
            if !tag.hasSuffix("/>") { depth += 1 }
        }
        return nil
    }

    static func insideComment(_ index: String.Index, in doc: String) -> Bool {
        guard let open = doc.range(of: "<!--", options: .backwards, range: doc.startIndex..<index) else { return false }
        guard let close = doc.range(of: "-->", range: open.upperBound..<doc.endIndex) else { return true }
        return close.lowerBound > index
    }

    /// The value of `name="…"` in a tag.
    static func attribute(_ name: String, in tag: String) -> String? {
        valueRange(name, in: tag).map { String(tag[$0]) }
    }

    /// Where the value of `name="…"` (or `name='…'`) sits in a tag.
    static func valueRange(_ name: String, in tag: String) -> Range<String.Index>? {
        var search = tag.startIndex..<tag.endIndex
        while let r = tag.range(of: "\(name)=", range: search) {
            search = r.upperBound..<tag.endIndex
            if r.lowerBound > tag.startIndex, let before = tag[..<r.lowerBound].last, !before.isWhitespace { continue }
            guard let quote = tag[r.upperBound...].first, quote == "\"" || quote == "'" else { continue }
            let start = tag.index(after: r.upperBound)
            guard let end = tag[start...].firstIndex(of: quote) else { return nil }
            return start..<end
        }
        return nil
    }

    /// The document with `name="value"` set in the tag at `tag` (replaced, or added at the end).
    static func setting(_ name: String, to value: String, in doc: String, tag: Range<String.Index>) -> String {
        var newTag = String(doc[tag])
        if let r = valueRange(name, in: newTag) {
            newTag.replaceSubrange(r, with: value)
        } else {
            let insertAt = newTag.hasSuffix("/>") ? newTag.index(newTag.endIndex, offsetBy: -2) : newTag.index(before: newTag.endIndex)
            var head = String(newTag[..<insertAt])
            while head.hasSuffix(" ") { head.removeLast() }
            newTag = head + " \(name)=\"\(value)\"" + newTag[insertAt...]
        }
        var d = doc
        d.replaceSubrange(tag, with: newTag)
        return d
    }

    static func indentation(of tag: Range<String.Index>, in doc: String) -> String {
        let lineStart = doc[..<tag.lowerBound].lastIndex(of: "\n").map { doc.index(after: $0) } ?? doc.startIndex
        return String(doc[lineStart..<tag.lowerBound].prefix { $0 == " " || $0 == "\t" })
    }

    /// Changed lines as `-N: old` / `+N: new` pairs (a line-by-line diff; patches only edit
    /// within lines or insert whole lines).
    static func diff(old: String, new: String) -> [String] {
        let a = old.split(separator: "\n", omittingEmptySubsequences: false)
        let b = new.split(separator: "\n", omittingEmptySubsequences: false)
        var out: [String] = []
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] { i += 1; j += 1; continue }
            // An inserted line: b[j] is new and the rest lines up again.
            if j + 1 < b.count, i < a.count, a[i] == b[j + 1] {
                out.append("+\(j + 1): \(b[j].trimmingCharacters(in: .whitespaces))")
                j += 1
                continue
            }
            if i < a.count { out.append("-\(i + 1): \(a[i].trimmingCharacters(in: .whitespaces))") }
            if j < b.count { out.append("+\(j + 1): \(b[j].trimmingCharacters(in: .whitespaces))") }
            i += 1; j += 1
        }
        return out
    }
}
