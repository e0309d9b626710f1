/// The box of an object in a frame: the extent of the pixels where it is visible, from a
/// segmentation (`OffscreenRenderer.segment`). Exact, as far as the renderer goes: an object
/// half hidden behind another gets the box of its visible half, one cut by the border the box of
/// what is inside, as a person labelling the image would draw it.
public struct ObjectBox: Sendable, Equatable {
    /// The model geom.
    public var geom: Int
    /// COCO's box in pixel edges: columns [x, x + width), rows [y, y + height), top row 0.
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int
    /// Visible pixels of the object.
    public var pixels: Int

    public init(geom: Int, x: Int, y: Int, width: Int, height: Int, pixels: Int) {
        self.geom = geom; self.x = x; self.y = y; self.width = width; self.height = height; self.pixels = pixels
    }

    /// The boxes of `geoms` in a segmentation (`width × height` geom ids, top row first), in the
    /// order of `geoms`; an object with fewer than `minimumPixels` visible pixels has none (a few
    /// pixels at the border or behind another object are not something to detect).
    public static func boxes(in ids: UnsafeBufferPointer<Int32>, width: Int, height: Int, geoms: [Int], minimumPixels: Int = 20) -> [ObjectBox] {
        precondition(ids.count == width * height, "a segmentation of \(ids.count) ids is not \(width)×\(height)")
        var slot = [Int](repeating: -1, count: (geoms.max() ?? -1) + 1)  // geom id → index into geoms
        for (k, g) in geoms.enumerated() where g >= 0 { slot[g] = k }
        var x0 = [Int](repeating: .max, count: geoms.count), y0 = x0
        var x1 = [Int](repeating: -1, count: geoms.count), y1 = x1
        var count = [Int](repeating: 0, count: geoms.count)
        for y in 0..<height {
            for x in 0..<width {
                let id = ids[y * width + x]
                guard id >= 0, Int(id) < slot.count else { continue }
                let k = slot[Int(id)]
                guard k >= 0 else { continue }
                count[k] += 1
                x0[k] = min(x0[k], x); x1[k] = max(x1[k], x)
                y0[k] = min(y0[k], y); y1[k] = max(y1[k], y)
            }
        }
        return geoms.indices.compactMap { k in
            guard count[k] >= max(1, minimumPixels) else { return nil }
            return ObjectBox(geom: geoms[k], x: x0[k], y: y0[k], width: x1[k] + 1 - x0[k], height: y1[k] + 1 - y0[k], pixels: count[k])
        }
    }
}
