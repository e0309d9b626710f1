import Foundation
import TetherCore

/// One ground-truth object of a COCO file (`annotations[]`).
public struct COCOAnnotation: Sendable, Equatable {
    /// The annotation's `id`. pycocotools records the matched ground truth by this id, so a
    /// detection matched to id 0 counts as unmatched there; Tether keeps that quirk.
    public var id: Int
    public var imageID: Int
    public var categoryID: Int
    public var box: BoundingBox
    /// The file's `area` field (the segmentation's area in COCO), which decides the small /
    /// medium / large range; `width · height` when the field is absent.
    public var area: Double
    /// `iscrowd`: matched by intersection over the detection's area, and ignored.
    public var isCrowd: Bool

    public init(id: Int, imageID: Int, categoryID: Int, box: BoundingBox, area: Double? = nil, isCrowd: Bool = false) {
        self.id = id; self.imageID = imageID; self.categoryID = categoryID; self.box = box
        self.area = area ?? box.width * box.height
        self.isCrowd = isCrowd
    }
}

/// A category of a COCO file (`categories[]`).
public struct COCOCategory: Sendable, Equatable, Codable {
    public var id: Int
    public var name: String
    public init(id: Int, name: String) { self.id = id; self.name = name }
}

/// One detection of a COCO results file: `{"image_id", "category_id", "bbox", "score"}`.
public struct COCODetection: Sendable, Equatable {
    public var imageID: Int
    public var categoryID: Int
    public var box: BoundingBox
    public var score: Double
    public init(imageID: Int, categoryID: Int, box: BoundingBox, score: Double) {
        self.imageID = imageID; self.categoryID = categoryID; self.box = box; self.score = score
    }
}

/// A COCO ground-truth file: images, categories and annotations (boxes only).
public struct COCOGroundTruth: Sendable {
    /// Image ids in file order.
    public var imageIDs: [Int]
    public var categories: [COCOCategory]
    public var annotations: [COCOAnnotation]

    /// Checks ids: unique images, categories and annotation ids; every annotation on a listed
    /// image and category; no negative box sizes.
    public init(imageIDs: [Int], categories: [COCOCategory], annotations: [COCOAnnotation], source: String = "ground truth") throws {
        self.imageIDs = imageIDs
        self.categories = categories
        self.annotations = annotations
        let images = Set(imageIDs)
        guard images.count == imageIDs.count else {
            throw TetherError("duplicate image id in images[]", at: source, hint: "every image must be listed once")
        }
        let cats = Set(categories.map(\.id))
        guard cats.count == categories.count else {
            throw TetherError("duplicate category id in categories[]", at: source, hint: "every category must be listed once")
        }
        var ids = Set<Int>(minimumCapacity: annotations.count)
        for (i, a) in annotations.enumerated() {
            let here = "\(source): annotations[\(i)] (id \(a.id))"
            guard images.contains(a.imageID) else {
                throw TetherError("image_id \(a.imageID) is not in images[]", at: here, hint: "add the image to images[] or remove the annotation")
            }
            guard cats.contains(a.categoryID) else {
                throw TetherError("category_id \(a.categoryID) is not in categories[]", at: here,
                                  hint: "add the category to categories[] or remove the annotation")
            }
            guard a.box.width >= 0, a.box.height >= 0 else {
                throw TetherError("negative box size \(a.box.width) × \(a.box.height)", at: here,
                                  hint: "COCO boxes are [x, y, width, height] with width, height ≥ 0; convert corner boxes first")
            }
            guard ids.insert(a.id).inserted else {
                throw TetherError("duplicate annotation id \(a.id)", at: here,
                                  hint: "annotation ids must be unique (pycocotools silently evaluates the last one twice)")
            }
        }
    }

    /// Loads a COCO ground-truth JSON file (`images`, `annotations`, `categories`; other keys and
    /// fields are skipped).
    public static func load(path: String) throws -> COCOGroundTruth {
        var imageIDs: [Int] = []
        var categories: [COCOCategory] = []
        var annotations: [COCOAnnotation] = []
        try withJSONFile(path) { c in
            guard c.peek() == UInt8(ascii: "{") else {
                throw c.error("a ground-truth file must be a JSON object with images, annotations and categories",
                              hint: "a list at the top level is a results (detections) file: pass it with --dt")
            }
            var sawImages = false, sawCategories = false
            var more = try c.openObject()
            while more {
                let key = try c.key()
                if key.equals("images") {
                    sawImages = true
                    var element = try c.openArray()
                    while element {
                        var id: Int?
                        var member = try c.openObject()
                        while member {
                            if try c.key().equals("id") { id = try readID(&c, "images[\(imageIDs.count)].id") } else { try c.skipValue() }
                            member = try c.nextMember()
                        }
                        guard let id else { throw c.error("images[\(imageIDs.count)] has no id", hint: "every image needs an integer id") }
                        imageIDs.append(id)
                        element = try c.nextElement()
                    }
                } else if key.equals("categories") {
                    sawCategories = true
                    var element = try c.openArray()
                    while element {
                        var id: Int?, name = ""
                        var member = try c.openObject()
                        while member {
                            let k = try c.key()
                            if k.equals("id") { id = try readID(&c,
                                    "categories[\(categories.count)].id") } else if k.equals("name") { name = try c.string() } else { try c.skipValue() }
                            member = try c.nextMember()
                        }
                        guard let id else { throw c.error("categories[\(categories.count)] has no id", hint: "every category needs an integer id") }
                        categories.append(COCOCategory(id: id, name: name.isEmpty ? "\(id)" : name))
                        element = try c.nextElement()
                    }
                } else if key.equals("annotations") {
                    annotations.reserveCapacity(1 << 15)
                    var element = try c.openArray()
                    while element {
                        let i = annotations.count
                        var id: Int?, image: Int?, category: Int?, box: BoundingBox?, area: Double?
                        var crowd = false
                        var member = try c.openObject()
                        while member {
                            let k = try c.key()
                            if k.equals("id") { id = try readID(&c, "annotations[\(i)].id") }
                            else if k.equals("image_id") { image = try readID(&c, "annotations[\(i)].image_id") }
                            else if k.equals("category_id") { category = try readID(&c, "annotations[\(i)].category_id") }
                            else if k.equals("bbox") { box = try readBox(&c, "annotations[\(i)].bbox") }
                            else if k.equals("area") { area = try c.number() }
                            else if k.equals("iscrowd") { crowd = try c.truthy() }
                            else { try c.skipValue() }
                            member = try c.nextMember()
                        }
                        guard let id, let image, let category, let box else {
                            let missing = [("id", id == nil), ("image_id", image == nil), ("category_id", category == nil), ("bbox",
                                box == nil)].filter(\.1).map(\.0)
                            throw c.error("annotations[\(i)] has no \(missing.joined(separator: ", "))",
                                          hint: "a COCO box annotation needs id, image_id, category_id and bbox")
                        }
                        annotations.append(COCOAnnotation(id: id, imageID: image, categoryID: category, box: box, area: area, isCrowd: crowd))
                        element = try c.nextElement()
                    }
                } else {
                    try c.skipValue()
                }
                more = try c.nextMember()
            }
            try c.expectEnd()
            guard sawImages, sawCategories else {
                throw TetherError("a ground-truth file needs \"images\" and \"categories\"", at: path, hint: "is this a COCO instances file?")
            }
        }
        return try COCOGroundTruth(imageIDs: imageIDs, categories: categories, annotations: annotations, source: path)
    }
}

/// A COCO results file: a list of detections.
public struct COCODetections: Sendable {
    public var detections: [COCODetection]
    public init(_ detections: [COCODetection]) { self.detections = detections }

    /// Loads a COCO results JSON file: a list of `{"image_id", "category_id", "bbox", "score"}`.
    public static func load(path: String) throws -> COCODetections {
        var detections: [COCODetection] = []
        try withJSONFile(path) { c in
            guard c.peek() == UInt8(ascii: "[") else {
                throw c.error("a results file must be a JSON list of detections",
                              hint: "an object at the top level is a ground-truth file: pass it with --gt")
            }
            detections.reserveCapacity(1 << 17)
            var element = try c.openArray()
            while element {
                let i = detections.count
                var image: Int?, category: Int?, box: BoundingBox?, score: Double?
                var member = try c.openObject()
                while member {
                    let k = try c.key()
                    if k.equals("image_id") { image = try readID(&c, "[\(i)].image_id") }
                    else if k.equals("category_id") { category = try readID(&c, "[\(i)].category_id") }
                    else if k.equals("bbox") { box = try readBox(&c, "[\(i)].bbox") }
                    else if k.equals("score") { score = try c.number() }
                    else { try c.skipValue() }
                    member = try c.nextMember()
                }
                guard let image, let category, let box, let score else {
                    let missing = [("image_id", image == nil), ("category_id", category == nil), ("bbox", box == nil), ("score",
                                                                                                                        score == nil)].filter(\.1).map(\.0)
                    throw c.error("detection [\(i)] has no \(missing.joined(separator: ", "))",
                                  hint: "a COCO box result needs image_id, category_id, bbox and score")
                }
                guard !score.isNaN else { throw c.error("detection [\(i)] has a NaN score", hint: "scores must be numbers") }
                guard box.width >= 0, box.height >= 0 else {
                    throw c.error("detection [\(i)] has a negative box size \(box.width) × \(box.height)",
                                  hint: "COCO boxes are [x, y, width, height] with width, height ≥ 0; convert corner boxes (x1, y1, x2, y2) first")
                }
                detections.append(COCODetection(imageID: image, categoryID: category, box: box, score: score))
                element = try c.nextElement()
            }
            try c.expectEnd()
        }
        return COCODetections(detections)
    }
}

/// An integer id (a float with an integral value is accepted, as Python's `1.0 == 1`).
private func readID(_ c: inout JSONCursor, _ field: @autoclosure () -> String) throws -> Int {
    let value = try c.number()
    guard value.rounded() == value, abs(value) < 9.0e15 else { throw c.error("\(field()) is \(value), not an integer id", hint: "COCO ids are integers") }
    return Int(value)
}

/// `[x, y, width, height]`.
private func readBox(_ c: inout JSONCursor, _ field: @autoclosure () -> String) throws -> BoundingBox {
    var v = (0.0, 0.0, 0.0, 0.0)
    var n = 0
    var more = try c.openArray()
    while more {
        let x = try c.number()
        switch n {
        case 0: v.0 = x
        case 1: v.1 = x
        case 2: v.2 = x
        case 3: v.3 = x
        default: throw c.error("\(field()) has more than 4 numbers", hint: "COCO boxes are [x, y, width, height]")
        }
        n += 1
        more = try c.nextElement()
    }
    guard n == 4 else { throw c.error("\(field()) has \(n) numbers, not 4", hint: "COCO boxes are [x, y, width, height]") }
    return BoundingBox(x: v.0, y: v.1, width: v.2, height: v.3)
}
