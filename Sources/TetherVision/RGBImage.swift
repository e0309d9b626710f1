import TetherCore

/// An 8-bit image in memory: rows top to bottom, pixels left to right, channels interleaved
/// (HWC). Three channels are R, G, B in that order; one channel is grey.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// 3 (RGB) or 1 (grey).
    public let channels: Int
    /// `height · width · channels` bytes, HWC.
    public var pixels: [UInt8]

    /// An image over existing pixels; the sizes must agree.
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0, "image sizes must not be negative")
        precondition(channels == 3 || channels == 1, "an image has 3 (RGB) or 1 (grey) channels")
        precondition(pixels.count == width * height * channels, "\(width)×\(height)×\(channels) needs \(width * height * channels) bytes, got \(pixels.count)")
        self.width = width; self.height = height; self.channels = channels; self.pixels = pixels
    }

    /// An image filled with one value per channel (`value` repeated for grey).
    public init(width: Int, height: Int, channels: Int = 3, fill value: UInt8 = 0) {
        self.init(width: width, height: height, channels: channels,
                  pixels: [UInt8](repeating: value, count: width * height * channels))
    }

    /// The sample of channel `c` at column `x`, row `y`.
    @inlinable public subscript(x: Int, y: Int, c: Int) -> UInt8 {
        get { pixels[(y * width + x) * channels + c] }
        set { pixels[(y * width + x) * channels + c] = newValue }
    }

    /// The same image with three channels (grey replicated to R, G and B).
    public func toRGB() -> RGBImage {
        if channels == 3 { return self }
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            let v = pixels[i]
            out[3 * i] = v; out[3 * i + 1] = v; out[3 * i + 2] = v
        }
        return RGBImage(width: width, height: height, channels: 3, pixels: out)
    }

    /// Draws the outline of a box (clipped to the image) `thickness` pixels wide in `color`
    /// (RGB; the first component for grey images). For overlays, not for measurement.
    public mutating func drawBox(_ box: BoundingBox, color: (UInt8, UInt8, UInt8), thickness: Int = 2) {
        guard width > 0, height > 0 else { return }
        let x1 = max(0, min(width - 1, Int(box.x.rounded()))), x2 = max(0, min(width - 1, Int(box.x2.rounded()) - 1))
        let y1 = max(0, min(height - 1, Int(box.y.rounded()))), y2 = max(0, min(height - 1, Int(box.y2.rounded()) - 1))
        guard x2 >= x1, y2 >= y1 else { return }
        let rgb = [color.0, color.1, color.2]
        func set(_ x: Int, _ y: Int) {
            for c in 0..<channels { self[x, y, c] = rgb[c] }
        }
        for t in 0..<max(1, thickness) {
            let top = min(y1 + t, y2), bottom = max(y2 - t, y1), left = min(x1 + t, x2), right = max(x2 - t, x1)
            for x in x1...x2 { set(x, top); set(x, bottom) }
            for y in y1...y2 { set(left, y); set(right, y) }
        }
    }
}
