import Foundation
import TetherCore
import TetherRender
import TetherROS
import TetherSim

/// Which geoms of the model the virtual camera labels, and with which detector class: written
/// `GEOM=CLASS,GEOM=CLASS` (`--camera-labels`), or by convention every geom named
/// `seen_<class>` (the quadruped's `seen_cube`, `seen_ball`, `seen_cylinder`).
public struct CameraLabels: Sendable, Equatable {
    /// One labelled geom.
    public struct Label: Sendable, Equatable {
        public var geom: String
        public var className: String
        public init(geom: String, className: String) { self.geom = geom; self.className = className }
    }

    /// Explicit labels; nil: the `seen_<class>` convention.
    public var labels: [Label]?

    /// The `seen_<class>` convention.
    public static let byName = CameraLabels(labels: nil)

    public init(labels: [Label]?) { self.labels = labels }

    /// The prefix of a labelled geom's name under the convention.
    public static let prefix = "seen_"

    /// Parses `GEOM=CLASS,GEOM=CLASS`; a malformed pair is an error that quotes it.
    public static func parse(_ text: String, at place: String = "--camera-labels") throws -> CameraLabels {
        var labels: [Label] = []
        for pair in text.split(separator: ",", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw TetherError("'\(pair)' is not GEOM=CLASS", at: place, hint: "write labels as GEOM=CLASS pairs separated by commas, e.g. "
                    + "seen_cube=cube,seen_ball=ball")
            }
            guard !labels.contains(where: { $0.geom == parts[0] }) else {
                throw TetherError("geom '\(parts[0])' is labelled twice", at: place, hint: "give each geom one class")
            }
            labels.append(Label(geom: parts[0], className: parts[1]))
        }
        guard !labels.isEmpty else { throw TetherError("no labels in '\(text)'", at: place, hint: "write GEOM=CLASS pairs, e.g. seen_cube=cube") }
        return CameraLabels(labels: labels)
    }

    /// The labelled geoms of `model`, with their ids. A geom the model lacks is an error naming
    /// it and the model's geoms; under the convention, a model with no `seen_` geom is one too.
    public func resolve(in model: SimModel, at place: String = "--camera-labels") throws -> [(geom: Int, name: String, className: String)] {
        let named = model.names(of: .geom)
        if let labels {
            return try labels.map { label in
                guard let id = model.id(of: .geom, label.geom) else {
                    let suggestion = MuJoCo.closest(to: label.geom, in: named).map { " (did you mean '\($0)'?)" } ?? ""
                    throw TetherError("the model has no geom '\(label.geom)'\(suggestion)", at: place,
                                      hint: "label named geoms of \(model.source): \(named.prefix(30).joined(separator: ", "))")
                }
                return (id, label.geom, label.className)
            }
        }
        let seen = named.filter { $0.hasPrefix(Self.prefix) && $0.count > Self.prefix.count }
        guard !seen.isEmpty else {
            throw TetherError("the model has no geom named \(Self.prefix)<class> to label", at: model.source,
                              hint: "name the objects to detect \(Self.prefix)<class> (e.g. \(Self.prefix)cube), or pass --camera-labels GEOM=CLASS,…")
        }
        return seen.map { (model.id(of: .geom, $0)!, $0, String($0.dropFirst(Self.prefix.count))) }
    }
}

/// The virtual camera's ground truth (`tether emulate --camera-ground-truth`): with each degraded
/// frame, the same frame as rendered on `renderedTopic`, and the exact boxes of the labelled
/// objects (from MuJoCo's segmentation of that frame) as `vision_msgs/Detection2DArray` on
/// `truthTopic`, all three with the same header stamp.
public struct CameraGroundTruth: Sendable, Equatable {
    public var labels: CameraLabels
    public var renderedTopic: String
    public var truthTopic: String
    /// Objects with fewer visible pixels get no box.
    public var minimumPixels: Int

    public init(labels: CameraLabels = .byName, renderedTopic: String = "/camera/image_raw/rendered", truthTopic: String = "/camera/ground_truth",
                minimumPixels: Int = 20) {
        self.labels = labels
        self.renderedTopic = renderedTopic
        self.truthTopic = truthTopic
        self.minimumPixels = minimumPixels
    }

    /// The truth message of a frame: one detection per visible labelled object, its class name as
    /// `class_id` with score 1, its box (centre and size, pixels), the geom's name as `id`.
    public static func message(_ boxes: [ObjectBox], classes: [Int: (name: String, className: String)], header: StdMsgs.Header)
        -> VisionMsgs.Detection2DArray {
        VisionMsgs.Detection2DArray(header: header, detections: boxes.map { box in
            let label = classes[box.geom]
            return VisionMsgs.Detection2D(
                header: header,
                results: [VisionMsgs.ObjectHypothesisWithPose(hypothesis: VisionMsgs.ObjectHypothesis(classID: label?.className ?? "", score: 1))],
                bbox: VisionMsgs.BoundingBox2D(center: VisionMsgs.Pose2D(position: VisionMsgs.Point2D(x: Double(box.x) + Double(box.width) / 2,
                                                                                                        y: Double(box.y) + Double(box.height) / 2)),
                                               sizeX: Double(box.width), sizeY: Double(box.height)),
                id: label?.name ?? "")
        })
    }
}
