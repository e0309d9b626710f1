import Foundation
import TetherCore

/// One line of a COCO results file (`[{"image_id", "category_id", "bbox": [x, y, w, h], "score"}]`).
public struct DetectionResultEntry: Sendable, Equatable, Codable {
    public var imageID: Int
    public var categoryID: Int
    /// `[x, y, width, height]` in pixels, rounded to 3 decimals (as Ultralytics writes them).
    public var bbox: [Double]
    /// Rounded to 5 decimals.
    public var score: Double

    enum CodingKeys: String, CodingKey {
        case imageID = "image_id", categoryID = "category_id", bbox, score
    }

    public init(imageID: Int, categoryID: Int, detection: Detection) {
        func round(_ v: Double, _ digits: Double) -> Double { (v * digits).rounded() / digits }
        self.imageID = imageID
        self.categoryID = categoryID
        let b = detection.box
        bbox = [round(b.x, 1000), round(b.y, 1000), round(b.width, 1000), round(b.height, 1000)]
        score = round(detection.score, 100_000)
    }

    /// Encodes results as a JSON array, one entry per line.
    public static func encode(_ entries: [DetectionResultEntry]) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var out = Data("[".utf8)
        for (i, e) in entries.enumerated() {
            out += Data((i == 0 ? "\n" : ",\n").utf8)
            out += try encoder.encode(e)
        }
        out += Data((entries.isEmpty ? "]\n" : "\n]\n").utf8)
        return out
    }
}

/// How images and classes map to a COCO ground truth's ids: images by `file_name` (whole or
/// base name), categories by name against the detector's class names.
public struct DetectionGroundTruthIDs: Sendable {
    /// Image id by file name, and by base name.
    public let imageIDs: [String: Int]
    /// Each image's `file_name` as the ground truth writes it, by image id.
    public let fileNames: [Int: String]
    /// COCO category id by class index.
    public let categoryIDs: [Int]
    public let path: String

    private struct File: Decodable {
        struct Image: Decodable { var id: Int; var file_name: String }
        struct Category: Decodable { var id: Int; var name: String }
        var images: [Image]
        var categories: [Category]
    }

    /// Reads the `images` and `categories` of a COCO ground-truth file and matches categories to
    /// `classNames` by name; a class with no category is an error listing both sets of names.
    public init(path: String, classNames: [String]) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TetherError("cannot read the ground-truth file", at: path, hint: "check the --gt path")
        }
        let file: File
        do { file = try JSONDecoder().decode(File.self, from: data) } catch {
            throw TetherError("not a COCO ground-truth file (needs 'images' with id and file_name, 'categories' with id and name): \(error)", at: path)
        }
        var images: [String: Int] = [:]
        var names: [Int: String] = [:]
        for image in file.images {
            guard names[image.id] == nil else {
                throw TetherError("image id \(image.id) appears twice in 'images' (\(names[image.id]!) and \(image.file_name))", at: path,
                                  hint: "give every image its own id")
            }
            names[image.id] = image.file_name
            images[image.file_name] = image.id
            images[(image.file_name as NSString).lastPathComponent] = images[(image.file_name as NSString).lastPathComponent] ?? image.id
        }
        var byName: [String: Int] = [:]
        for c in file.categories { byName[c.name] = c.id }
        let missing = classNames.filter { byName[$0] == nil }
        guard missing.isEmpty else {
            throw TetherError("the model's classes \(missing) have no category of the same name; model classes: \(classNames), categories: "
                + "\(file.categories.map(\.name))",
                              at: path, hint: "pass --names with the dataset's category names in the model's class order")
        }
        imageIDs = images
        fileNames = names
        categoryIDs = classNames.map { byName[$0]! }
        self.path = path
    }

    /// The image id of an image file: its path relative to nothing, its name, or nil.
    public func imageID(for file: String) -> Int? {
        imageIDs[file] ?? imageIDs[(file as NSString).lastPathComponent]
    }
}

/// Runs a detector over image files and collects COCO results and timings.
public struct DetectionBatch {
    /// What happened with one image.
    public struct ImageResult: Sendable {
        public var file: String
        public var imageID: Int
        public var detections: [Detection]
        public var timings: DetectionTimings
    }

    public let detector: Detector
    public let groundTruth: DetectionGroundTruthIDs?

    public init(detector: Detector, groundTruth: DetectionGroundTruthIDs? = nil) {
        self.detector = detector
        self.groundTruth = groundTruth
    }

    /// Detects objects in each file. Without ground truth, image ids are 1, 2, … in file order
    /// and category ids are class indices; with it, both come from the ground truth (an image
    /// it does not list is an error). `annotate`: a directory to write each image with its boxes.
    public func run(files: [String], annotate: String? = nil, progress: (Int, ImageResult) -> Void = { _, _ in })
        throws -> (entries: [DetectionResultEntry], images: [ImageResult]) {
        var entries: [DetectionResultEntry] = [], images: [ImageResult] = []
        for (k, file) in files.enumerated() {
            let image = try ImageCodecs.read(path: file)
            let id: Int
            if let groundTruth {
                guard let found = groundTruth.imageID(for: file) else {
                    throw TetherError("the image is not in the ground truth's images (by file_name)", at: file,
                                      hint: "pass the images the ground truth \(groundTruth.path) lists")
                }
                id = found
            } else {
                id = k + 1
            }
            let (detections, timings) = try detector.detect(image)
            for d in detections {
                let category = groundTruth.map { d.classIndex < $0.categoryIDs.count ? $0.categoryIDs[d.classIndex] : d.classIndex } ?? d.classIndex
                entries.append(DetectionResultEntry(imageID: id, categoryID: category, detection: d))
            }
            if let annotate {
                var canvas = image.toRGB()
                for d in detections { canvas.drawBox(d.box, color: Self.palette[d.classIndex % Self.palette.count]) }
                let name = ((file as NSString).lastPathComponent as NSString).deletingPathExtension + ".png"
                try ImageCodecs.write(canvas, to: (annotate as NSString).appendingPathComponent(name))
            }
            let result = ImageResult(file: file, imageID: id, detections: detections, timings: timings)
            progress(k, result)
            images.append(result)
        }
        return (entries, images)
    }

    static let palette: [(UInt8, UInt8, UInt8)] = [(255, 56, 56), (56, 255, 56), (56, 56, 255), (255, 178, 29), (207, 210, 49), (72, 249, 10), (146, 204, 23),
                                                   (61, 219, 134), (26, 147, 52), (0, 212, 187)]
}
