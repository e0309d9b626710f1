import TetherCore

/// Where an image lands in a detector's input after letterboxing, and the way back.
///
/// Ultralytics' `LetterBox` for inference (auto off, scale-fill off, scale-up on, centred):
/// `r = min(th/h, tw/w)`; the resized size is `(round(w·r), round(h·r))` with Python's
/// round-half-to-even; the padding `dw, dh` is halved and split as `round(d − 0.1)` before and
/// `round(d + 0.1)` after.
public struct LetterboxGeometry: Sendable, Equatable {
    public let sourceWidth: Int
    public let sourceHeight: Int
    public let targetWidth: Int
    public let targetHeight: Int
    /// The scale from source to input pixels.
    public let ratio: Double
    public let resizedWidth: Int
    public let resizedHeight: Int
    public let left: Int
    public let top: Int
    public let right: Int
    public let bottom: Int

    /// The geometry of letterboxing a `sourceWidth × sourceHeight` image into `targetWidth × targetHeight`.
    public init(sourceWidth: Int, sourceHeight: Int, targetWidth: Int, targetHeight: Int) {
        precondition(sourceWidth > 0 && sourceHeight > 0 && targetWidth > 0 && targetHeight > 0, "letterbox sizes must be positive")
        self.sourceWidth = sourceWidth; self.sourceHeight = sourceHeight
        self.targetWidth = targetWidth; self.targetHeight = targetHeight
        let r = min(Double(targetHeight) / Double(sourceHeight), Double(targetWidth) / Double(sourceWidth))
        ratio = r
        resizedWidth = Int((Double(sourceWidth) * r).rounded(.toNearestOrEven))
        resizedHeight = Int((Double(sourceHeight) * r).rounded(.toNearestOrEven))
        let dw = Double(targetWidth - resizedWidth) / 2, dh = Double(targetHeight - resizedHeight) / 2
        top = Int((dh - 0.1).rounded(.toNearestOrEven)); bottom = Int((dh + 0.1).rounded(.toNearestOrEven))
        left = Int((dw - 0.1).rounded(.toNearestOrEven)); right = Int((dw + 0.1).rounded(.toNearestOrEven))
    }

    /// A box in input pixels mapped back to the source image and clipped to it, as Ultralytics'
    /// `scale_boxes` does: `gain = min(in/orig)`, `pad = round((in − orig·gain)/2 − 0.1)`.
    public func toSource(_ box: BoundingBox) -> BoundingBox {
        let gain = min(Double(targetHeight) / Double(sourceHeight), Double(targetWidth) / Double(sourceWidth))
        let padX = ((Double(targetWidth) - Double(sourceWidth) * gain) / 2 - 0.1).rounded(.toNearestOrEven)
        let padY = ((Double(targetHeight) - Double(sourceHeight) * gain) / 2 - 0.1).rounded(.toNearestOrEven)
        return BoundingBox(x1: (box.x - padX) / gain, y1: (box.y - padY) / gain,
                           x2: (box.x2 - padX) / gain, y2: (box.y2 - padY) / gain)
            .clipped(width: Double(sourceWidth), height: Double(sourceHeight))
    }
}

/// Letterbox pre-processing into a float32 NCHW tensor with Ultralytics' semantics: resize keeping
/// the aspect ratio (OpenCV's `INTER_LINEAR` on 8-bit samples, emulated), pad with 114, RGB,
/// samples divided by 255.
///
/// Holds its scratch buffers, so one instance per thread re-used across frames allocates nothing.
public final class Letterboxer {
    /// The input width and height of the model.
    public let width: Int
    public let height: Int
    /// The padding value (Ultralytics: 114).
    public let padValue: UInt8
    private var resized: [UInt8] = []
    private let resizer = BilinearResizer()
    /// v/255 for every byte v, in float32 as `numpy` / `torch` divide.
    private static let scaled: [Float] = (0..<256).map { Float($0) / Float(255) }

    /// A letterboxer for a `width × height` model input.
    public init(width: Int, height: Int, padValue: UInt8 = 114) {
        precondition(width > 0 && height > 0, "the model input size must be positive")
        self.width = width; self.height = height; self.padValue = padValue
    }

    /// The number of floats of one letterboxed image (3 · height · width).
    public var tensorCount: Int { 3 * width * height }

    /// Letterboxes `image` into `tensor` (3 · height · width floats, channel-major) and returns
    /// where it landed.
    @discardableResult
    public func callAsFunction(_ image: RGBImage, into tensor: UnsafeMutableBufferPointer<Float>) -> LetterboxGeometry {
        precondition(tensor.count >= tensorCount, "the tensor needs \(tensorCount) floats")
        precondition(image.width > 0 && image.height > 0, "cannot letterbox an empty image")
        let g = LetterboxGeometry(sourceWidth: image.width, sourceHeight: image.height, targetWidth: width, targetHeight: height)
        let cn = image.channels
        let plane = width * height
        let pad = Self.scaled[Int(padValue)]
        Self.scaled.withUnsafeBufferPointer { table in
            func fill(_ src: UnsafeBufferPointer<UInt8>) {
                let planes = (tensor.baseAddress!, tensor.baseAddress! + plane, tensor.baseAddress! + 2 * plane)
                let after = width - g.left - g.resizedWidth
                for y in 0..<height {
                    let offset = y * width
                    if y < g.top || y >= g.top + g.resizedHeight {
                        for c in 0..<3 { (tensor.baseAddress! + c * plane + offset).update(repeating: pad, count: width) }
                        continue
                    }
                    for c in 0..<3 {
                        let p = tensor.baseAddress! + c * plane + offset
                        if g.left > 0 { p.update(repeating: pad, count: g.left) }
                        if after > 0 { (p + g.left + g.resizedWidth).update(repeating: pad, count: after) }
                    }
                    // One pass over the row's pixels, writing the three planes.
                    let r = planes.0 + offset + g.left, gr = planes.1 + offset + g.left, b = planes.2 + offset + g.left
                    let row = src.baseAddress! + (y - g.top) * g.resizedWidth * cn
                    if cn == 3 {
                        for x in 0..<g.resizedWidth {
                            r[x] = table[Int(row[3 * x])]; gr[x] = table[Int(row[3 * x + 1])]; b[x] = table[Int(row[3 * x + 2])]
                        }
                    } else {
                        for x in 0..<g.resizedWidth {
                            let v = table[Int(row[x])]
                            r[x] = v; gr[x] = v; b[x] = v
                        }
                    }
                }
            }
            if g.resizedWidth == image.width && g.resizedHeight == image.height {
                image.pixels.withUnsafeBufferPointer(fill)
            } else {
                let count = g.resizedWidth * g.resizedHeight * cn
                if resized.count < count { resized = [UInt8](repeating: 0, count: count) }
                image.pixels.withUnsafeBufferPointer { src in
                    resized.withUnsafeMutableBufferPointer { dst in
                        resizer.resize(src, width: image.width, height: image.height, channels: cn,
                                       into: dst, width: g.resizedWidth, height: g.resizedHeight)
                    }
                }
                resized.withUnsafeBufferPointer(fill)
            }
        }
        return g
    }

    /// Letterboxes `image` into a new array (convenient; the detector uses `callAsFunction(_:into:)`).
    public func tensor(_ image: RGBImage) -> (tensor: [Float], geometry: LetterboxGeometry) {
        var out = [Float](repeating: 0, count: tensorCount)
        let g = out.withUnsafeMutableBufferPointer { self(image, into: $0) }
        return (out, g)
    }
}

/// OpenCV's `cv::resize(…, INTER_LINEAR)` on 8-bit images, reproduced step by step so that the
/// pixels match `cv2.resize`: source coordinates `(d + 0.5)·scale − 0.5` in float, clamped at the
/// borders; weights in 11-bit fixed point (`saturate_cast<short>(w · 2048)`, round half to even);
/// a horizontal pass to 32-bit sums, then the vertical pass as OpenCV's SIMD kernel computes it:
/// `(((S0 >> 4)·b0 >> 16) + ((S1 >> 4)·b1 >> 16) + 2) >> 2`.
///
/// Measured against opencv-python-headless 5.0.0.93 (tests/peers/vision_peer.py): identical for
/// every down-scale tested; when the image is scaled up vertically, about 0.05 % of samples
/// come out 1 higher than OpenCV's (a rounding path of OpenCV's we have not pinned down).
final class BilinearResizer {
    /// Coefficients of the last size pair, kept: a camera stream resizes the same way every frame.
    private var key = (sw: 0, sh: 0, dw: 0, dh: 0)
    private var xofs: [Int32] = [], alpha: [Int32] = [], yofs: [Int] = [], beta: [Int32] = []
    /// Two horizontally resized source rows (32-bit sums) and which source rows they hold.
    private var rowBuffer: UnsafeMutableBufferPointer<Int32> = .allocate(capacity: 0)
    private var rowIndex = (-1, -1)

    deinit { rowBuffer.deallocate() }

    private static func coefficients(dst: Int, src: Int) -> (offsets: [Int], weights: [Int32]) {
        let scale = 1.0 / (Double(dst) / Double(src))
        var offsets = [Int](repeating: 0, count: dst), weights = [Int32](repeating: 0, count: 2 * dst)
        for d in 0..<dst {
            var f = Float((Double(d) + 0.5) * scale - 0.5)
            var s = Int(f.rounded(.down))
            f -= Float(s)
            if s < 0 { f = 0; s = 0 }
            if s >= src - 1 { f = 0; s = src - 1 }
            offsets[d] = s
            weights[2 * d] = Int32(((1 - f) * 2048).rounded(.toNearestOrEven))
            weights[2 * d + 1] = Int32((f * 2048).rounded(.toNearestOrEven))
        }
        return (offsets, weights)
    }

    func resize(_ src: UnsafeBufferPointer<UInt8>, width sw: Int, height sh: Int, channels cn: Int,
                into dst: UnsafeMutableBufferPointer<UInt8>, width dw: Int, height dh: Int) {
        precondition(src.count >= sw * sh * cn && dst.count >= dw * dh * cn, "resize buffers too small")
        if key != (sw, sh, dw, dh) {
            let (xs, xw) = Self.coefficients(dst: dw, src: sw)
            (yofs, beta) = Self.coefficients(dst: dh, src: sh)
            // Second tap: the next pixel, or the same one at the right border (weight 0 there).
            xofs = xs.map { Int32($0) }
            alpha = xw
            for d in 0..<dw where xs[d] + 1 >= sw { alpha[2 * d + 1] = 0 }
            key = (sw, sh, dw, dh)
        }
        let rowLength = dw * cn
        if rowBuffer.count < 2 * rowLength {
            rowBuffer.deallocate()
            rowBuffer = .allocate(capacity: 2 * rowLength)
        }
        rowIndex = (-1, -1)
        let rows = rowBuffer.baseAddress!
        xofs.withUnsafeBufferPointer { xofs in
            alpha.withUnsafeBufferPointer { alpha in
                for dy in 0..<dh {
                    let sy0 = yofs[dy], sy1 = min(yofs[dy] + 1, sh - 1)
                    let r0 = horizontal(src, row: sy0, sw: sw, cn: cn, dw: dw, xofs: xofs, alpha: alpha)
                    let r1 = horizontal(src, row: sy1, sw: sw, cn: cn, dw: dw, xofs: xofs, alpha: alpha)
                    let s0 = rows + r0 * rowLength, s1 = rows + r1 * rowLength
                    let b0 = beta[2 * dy], b1 = beta[2 * dy + 1]
                    let out = dst.baseAddress! + dy * rowLength
                    for x in 0..<rowLength {
                        let v = (((s0[x] >> 4) &* b0) >> 16) &+ (((s1[x] >> 4) &* b1) >> 16)
                        out[x] = UInt8(truncatingIfNeeded: max(0, min(255, (v &+ 2) >> 2)))
                    }
                }
            }
        }
    }

    /// The slot (0 or 1) holding the horizontal pass of source row `row`, computing it if needed.
    @inline(__always)
    private func horizontal(_ src: UnsafeBufferPointer<UInt8>, row: Int, sw: Int, cn: Int, dw: Int,
                            xofs: UnsafeBufferPointer<Int32>, alpha: UnsafeBufferPointer<Int32>) -> Int {
        if rowIndex.0 == row { return 0 }
        if rowIndex.1 == row { return 1 }
        // Replace the slot whose row is further behind.
        let slot = rowIndex.0 < rowIndex.1 ? 0 : 1
        if slot == 0 { rowIndex.0 = row } else { rowIndex.1 = row }
        let base = src.baseAddress! + row * sw * cn
        let out = rowBuffer.baseAddress! + slot * dw * cn
        if cn == 3 {
            for dx in 0..<dw {
                let p = base + Int(xofs[dx]) * 3
                let a0 = alpha[2 * dx], a1 = alpha[2 * dx + 1]
                // a1 is 0 at the right border, where p + 3 would be past the row: read p instead.
                let q = a1 == 0 ? p : p + 3
                let o = out + 3 * dx
                o[0] = Int32(p[0]) &* a0 &+ Int32(q[0]) &* a1
                o[1] = Int32(p[1]) &* a0 &+ Int32(q[1]) &* a1
                o[2] = Int32(p[2]) &* a0 &+ Int32(q[2]) &* a1
            }
        } else {
            for dx in 0..<dw {
                let p = base + Int(xofs[dx]) * cn
                let a0 = alpha[2 * dx], a1 = alpha[2 * dx + 1]
                let q = a1 == 0 ? p : p + cn
                for c in 0..<cn { out[dx * cn + c] = Int32(p[c]) &* a0 &+ Int32(q[c]) &* a1 }
            }
        }
        return slot
    }
}
