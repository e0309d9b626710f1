import CMuJoCo
import CRender
import Foundation
import TetherCore
import TetherSim

/// Where the camera looks from.
public enum RenderCamera: Sendable, Equatable {
    /// Follows a body (the floating base) at a distance, from the side and a little above.
    case follow(body: String?, distance: Double, azimuth: Double, elevation: Double)
    /// A camera defined in the model (`<camera name=…>`).
    case named(String)
    /// A fixed viewpoint looking at a point.
    case fixed(lookAt: SIMD3<Double>, distance: Double, azimuth: Double, elevation: Double)

    /// The default: following the base from 2.2 m, 135° azimuth, 20° above.
    public static let followBase = RenderCamera.follow(body: nil, distance: 2.2, azimuth: 135, elevation: -20)
}

/// MuJoCo's own renderer (`mjr_*`), offscreen and headless: an EGL context with no window (Mesa's
/// software renderer, llvmpipe, on a machine without a GPU; the GPU's driver where there is one),
/// a scene of the model, and frames read back as RGB rows, top row first.
///
/// One renderer per thread: the GL context is current on the thread that created it.
public final class OffscreenRenderer {
    public let width: Int
    public let height: Int
    public let model: SimModel
    /// The GL renderer's name ("llvmpipe (LLVM 15.0.6, 256 bits)", a GPU's).
    public let glRenderer: String
    private let gl: OpaquePointer
    private let scene: UnsafeMutablePointer<mjvScene>
    private let context: UnsafeMutablePointer<mjrContext>
    private let option: UnsafeMutablePointer<mjvOption>
    private let camera: UnsafeMutablePointer<mjvCamera>
    private var pixels: [UInt8]
    private var rows: [UInt8]
    private var geomIDs: [Int32]

    /// Creates the context and the scene. Throws with the reason and the fix when there is no EGL
    /// display, no OpenGL, or the size is out of range.
    public init(model: SimModel, width: Int = 1280, height: Int = 720, camera view: RenderCamera = .followBase) throws {
        guard (16...8192).contains(width), (16...8192).contains(height) else {
            throw TetherError("a frame of \(width)×\(height) pixels is out of range", at: "--size", hint: "use sizes between 16 and 8192, e.g. 1280x720")
        }
        self.width = width
        self.height = height
        self.model = model
        var error = [CChar](repeating: 0, count: 512)
        guard let gl = tr_gl_create(&error, error.count) else {
            let reason = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw TetherError("cannot create a headless OpenGL context: \(reason)", at: "EGL",
                              hint: "install Mesa's EGL and software renderer (Debian: apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri), or "
                                  + "a GPU driver; scripts/setup.sh installs them")
        }
        self.gl = gl
        glRenderer = String(cString: tr_gl_renderer())
        scene = .allocate(capacity: 1)
        context = .allocate(capacity: 1)
        option = .allocate(capacity: 1)
        camera = .allocate(capacity: 1)
        mjv_defaultScene(scene)
        mjr_defaultContext(context)
        mjv_defaultOption(option)
        mjv_defaultFreeCamera(model.raw, camera)
        mjv_makeScene(model.raw, scene, 4000)
        // Text about 1/30 of the frame's height: 100 % fonts up to 480 lines, 150 % to 900, 200 % above.
        let fontScale = height <= 480 ? mjFONTSCALE_100 : height <= 900 ? mjFONTSCALE_150 : mjFONTSCALE_200
        mjr_makeContext(model.raw, context, Int32(fontScale.rawValue))
        mjr_setBuffer(Int32(mjFB_OFFSCREEN.rawValue), context)
        if Int(context.pointee.offWidth) < width || Int(context.pointee.offHeight) < height {
            mjr_resizeOffscreen(Int32(width), Int32(height), context)
        }
        guard Int(context.pointee.offWidth) >= width, Int(context.pointee.offHeight) >= height else {
            let got = "\(context.pointee.offWidth)×\(context.pointee.offHeight)"
            mjr_freeContext(context); mjv_freeScene(scene)
            tr_gl_destroy(gl)
            throw TetherError("the offscreen buffer is \(got), smaller than the \(width)×\(height) asked for", at: "OpenGL (\(glRenderer))")
        }
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        rows = pixels
        geomIDs = [Int32](repeating: -1, count: width * height)
        try setCamera(view)
    }

    deinit {
        _ = tr_gl_make_current(gl)
        mjr_freeContext(context)
        mjv_freeScene(scene)
        tr_gl_destroy(gl)
        scene.deallocate(); context.deallocate(); option.deallocate(); camera.deallocate()
    }

    /// Shadows, reflections and the skybox: on by default; off roughly halves a software
    /// renderer's time per frame (the demo's video).
    public var effects = true {
        didSet {
            let on: UInt8 = effects ? 1 : 0
            withUnsafeMutableBytes(of: &scene.pointee.flags) { flags in
                for flag in [mjRND_SHADOW, mjRND_REFLECTION, mjRND_SKYBOX] { flags[Int(flag.rawValue)] = on }
            }
        }
    }

    /// Points the camera; throws for a body or camera the model does not have.
    public func setCamera(_ view: RenderCamera) throws {
        switch view {
        case let .follow(body, distance, azimuth, elevation):
            let id: Int32
            if let body {
                id = mj_name2id(model.raw, Int32(mjOBJ_BODY.rawValue), body)
                guard id >= 0 else { throw TetherError("the model has no body '\(body)' to follow", at: "--follow") }
            } else {
                id = model.raw.pointee.nbody > 1 ? 1 : 0  // the first body after the world: the robot's root
            }
            camera.pointee.type = Int32(mjCAMERA_TRACKING.rawValue)
            camera.pointee.trackbodyid = id
            camera.pointee.distance = distance
            camera.pointee.azimuth = azimuth
            camera.pointee.elevation = elevation
        case let .named(name):
            let id = mj_name2id(model.raw, Int32(mjOBJ_CAMERA.rawValue), name)
            guard id >= 0 else {
                let names = (0..<Int(model.raw.pointee.ncam)).compactMap { i -> String? in mj_id2name(model.raw, Int32(mjOBJ_CAMERA.rawValue), Int32(i))
                    .map { String(cString: $0) } }
                throw TetherError("the model has no camera '\(name)'", at: "--camera",
                                  hint: names.isEmpty ? "the model defines no cameras; use the following camera (the default)"
                                      : "cameras: \(names.joined(separator: ", "))")
            }
            camera.pointee.type = Int32(mjCAMERA_FIXED.rawValue)
            camera.pointee.fixedcamid = id
        case let .fixed(lookAt, distance, azimuth, elevation):
            camera.pointee.type = Int32(mjCAMERA_FREE.rawValue)
            camera.pointee.lookat = (lookAt.x, lookAt.y, lookAt.z)
            camera.pointee.distance = distance
            camera.pointee.azimuth = azimuth
            camera.pointee.elevation = elevation
        }
    }

    /// Text drawn over a frame: lines of label / value at the top left, and an optional banner
    /// (a safety stop) across the top, on a red band.
    public struct Overlay: Sendable {
        public var lines: [(String, String)]
        public var banner: String?
        public init(lines: [(String, String)] = [], banner: String? = nil) {
            self.lines = lines
            self.banner = banner
        }
    }

    /// Renders `data` (positions already computed: `mj_forward` or `mj_kinematics`) and passes the
    /// frame to `body`: RGB, top row first, `width × height × 3` bytes.
    public func render<R>(_ data: SimData, overlay: Overlay = Overlay(), _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try render(panels: [(data, overlay)], body)
    }

    /// Renders several states side by side (each in its own panel of `width / panels` pixels, its
    /// own following camera and overlay: a simulated trial beside the robot's) into one frame.
    public func render<R>(panels: [(SimData, Overlay)], _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let viewport = mjrRect(left: 0, bottom: 0, width: Int32(width), height: Int32(height))
        let panelWidth = width / max(1, panels.count)
        // mjr_text places text relative to the whole offscreen buffer, which may be larger than the frame.
        let bufferWidth = Double(context.pointee.offWidth), bufferHeight = Double(context.pointee.offHeight)
        for (k, (data, overlay)) in panels.enumerated() {
            let left = k * panelWidth
            let panel = mjrRect(left: Int32(left), bottom: 0, width: Int32(panelWidth), height: Int32(height))
            mjv_updateScene(model.raw, data.raw, option, nil, camera, Int32(mjCAT_ALL.rawValue), scene)
            mjr_render(panel, scene, context)
            if !overlay.lines.isEmpty {
                let labels = overlay.lines.map(\.0).joined(separator: "\n"), values = overlay.lines.map(\.1).joined(separator: "\n")
                mjr_overlay(Int32(mjFONT_NORMAL.rawValue), Int32(mjGRID_BOTTOMLEFT.rawValue), panel, labels, values, context)
            }
            if let banner = overlay.banner {
                // A red band across the top with the text in white on it (no text box over the band).
                let bandHeight = max(12, height / 10)
                mjr_rectangle(mjrRect(left: Int32(left), bottom: Int32(height - bandHeight), width: Int32(panelWidth), height: Int32(bandHeight)),
                              0.75, 0.05, 0.05, 0.9)
                let font = height >= 480 && panels.count == 1 ? mjFONT_BIG : mjFONT_NORMAL
                mjr_text(Int32(font.rawValue), banner, context, Float((Double(left) + 0.02 * Double(panelWidth)) / bufferWidth),
                         Float((Double(height) - 0.8 * Double(bandHeight)) / bufferHeight), 1, 1, 1)
            }
        }
        pixels.withUnsafeMutableBufferPointer { mjr_readPixels($0.baseAddress, nil, viewport, context) }
        // OpenGL's first row is the bottom one.
        let stride = width * 3
        pixels.withUnsafeBufferPointer { source in
            rows.withUnsafeMutableBufferPointer { target in
                for y in 0..<height {
                    let from = source.baseAddress! + (height - 1 - y) * stride
                    (target.baseAddress! + y * stride).update(from: from, count: stride)
                }
            }
        }
        return try rows.withUnsafeBufferPointer { try body($0) }
    }

    /// Renders `data` with MuJoCo's segmentation (`mjRND_SEGMENT` + `mjRND_IDCOLOR`: every geom of
    /// the scene drawn flat, without lighting, in a colour that encodes its scene index + 1) and
    /// passes the model geom id seen at each pixel to `body`: `width × height` ids, top row first,
    /// −1 for the background and for decorations that are not geoms. The same camera and state as
    /// `render(_:)`, so the ids lie on that frame's pixels.
    public func segment<R>(_ data: SimData, _ body: (UnsafeBufferPointer<Int32>) throws -> R) rethrows -> R {
        let viewport = mjrRect(left: 0, bottom: 0, width: Int32(width), height: Int32(height))
        mjv_updateScene(model.raw, data.raw, option, nil, camera, Int32(mjCAT_ALL.rawValue), scene)
        let segment = Int(mjRND_SEGMENT.rawValue), idColour = Int(mjRND_IDCOLOR.rawValue)
        let saved = withUnsafeMutableBytes(of: &scene.pointee.flags) { flags in
            defer { flags[segment] = 1; flags[idColour] = 1 }
            return (flags[segment], flags[idColour])
        }
        mjr_render(viewport, scene, context)
        withUnsafeMutableBytes(of: &scene.pointee.flags) { flags in flags[segment] = saved.0; flags[idColour] = saved.1 }
        pixels.withUnsafeMutableBufferPointer { mjr_readPixels($0.baseAddress, nil, viewport, context) }
        // Colour (r + 256 g + 65536 b) = segid + 1 of a scene geom; the scene geom names its model object.
        var geomOfColour = [Int32](repeating: -1, count: 1)
        for i in 0..<Int(scene.pointee.ngeom) {
            let g = scene.pointee.geoms[i]
            guard g.segid >= 0, g.objtype == Int32(mjOBJ_GEOM.rawValue) else { continue }
            let colour = Int(g.segid) + 1
            if colour >= geomOfColour.count { geomOfColour += [Int32](repeating: -1, count: colour + 1 - geomOfColour.count) }
            geomOfColour[colour] = g.objid
        }
        let w = width, h = height
        pixels.withUnsafeBufferPointer { source in
            geomIDs.withUnsafeMutableBufferPointer { target in
                for y in 0..<h {
                    let row = source.baseAddress! + (h - 1 - y) * w * 3  // OpenGL's first row is the bottom one
                    for x in 0..<w {
                        let colour = Int(row[3 * x]) | Int(row[3 * x + 1]) << 8 | Int(row[3 * x + 2]) << 16
                        target[y * w + x] = colour < geomOfColour.count ? geomOfColour[colour] : -1
                    }
                }
            }
        }
        return try geomIDs.withUnsafeBufferPointer { try body($0) }
    }
}
