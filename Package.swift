// swift-tools-version: 6.1
// Tether: take a robot policy from simulation to a real robot, and measure the gap.
// Module layering follows ../shared/DESIGN.md (the README's layout table lists every target and its imports):
// C shims → TetherCore (vocabulary) → TetherReport, TetherONNX and the backends → runtime → calibration,
// validation, vision → TetherBench → CLI. Lower layers never import higher ones.
import PackageDescription
import Foundation

/// The package root, so that native paths set up by `scripts/setup.sh` resolve for plain `swift build`.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path
/// `scripts/setup.sh` links MuJoCo's headers and library (from the venv's `mujoco-core` wheel) here.
let native = "\(root)/.native"

/// Every Swift target that imports a native module (directly or through a dependency) needs the
/// include path for Clang's module importer.
let nativeSwift: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-I\(native)/include"])]
/// Link MuJoCo from `.native/lib` and find it there at run time (rpath), with no environment.
let nativeLink: [LinkerSetting] = [
    .unsafeFlags(["-L\(native)/lib", "-Xlinker", "-rpath", "-Xlinker", "\(native)/lib"]),
]

let package = Package(
    name: "Tether",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tether", targets: ["tether"]),
        // The library: every module but the benchmarks (TetherBench), which only the CLI uses.
        .library(name: "Tether", targets: ["TetherCore", "TetherNumerics", "TetherReport", "TetherSim", "TetherONNX", "TetherPolicy", "TetherSafety",
                                           "TetherROS",
                                           "TetherRuntime", "TetherEmulator", "TetherCalibration", "TetherValidation", "TetherVision", "TetherHistory"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // C layer: module maps over native headers.
        .systemLibrary(name: "CMuJoCo", path: "Sources/CMuJoCo"),
        // ONNX Runtime's C API through dlopen (the wheel ships no headers): a small C binding.
        .target(name: "COnnxRuntime", linkerSettings: [.linkedLibrary("dl")]),
        // Cyclone DDS (Debian cyclonedds-dev): a raw-CDR sertype so all encoding happens in Swift.
        // DDS_NDEBUG comes from pkg-config, which SwiftPM drops for C targets: struct layouts depend on it.
        .target(name: "CCycloneDDS", cSettings: [.define("DDS_NDEBUG")], linkerSettings: [.linkedLibrary("ddsc")]),
        // JPEG and PNG decoding and encoding from Debian's libjpeg-turbo (libjpeg62-turbo-dev) and libpng (libpng-dev).
        // libjpeg's fatal errors need setjmp/longjmp, which Swift cannot call: a small C file.
        .target(name: "CImageCodecs", linkerSettings: [.linkedLibrary("jpeg"), .linkedLibrary("png")]),
        // Headless OpenGL for MuJoCo's renderer: an EGL context without a window (Debian libegl-dev, libgl-dev; Mesa's llvmpipe
        // or a GPU driver at run time).
        .target(name: "CRender", linkerSettings: [.linkedLibrary("EGL"), .linkedLibrary("OpenGL")]),

        // Numerics: distributions, sample statistics, confidence intervals, hypothesis tests, dense
        // linear algebra and the one Levenberg–Marquardt solver. Depends on nothing.
        .target(name: "TetherNumerics"),
        // Vocabulary: manifest (policy contract), units, seeded random numbers, errors.
        .target(
            name: "TetherCore",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        // Self-contained HTML / SVG reports and plots (no scripts, no network). Core for TetherError only.
        .target(name: "TetherReport", dependencies: ["TetherCore"]),
        // ONNX Runtime sessions and bound tensors (the library is dlopen'ed, so nothing to link here).
        // Below Policy and Vision so that a detector does not drag MuJoCo in.
        .target(name: "TetherONNX", dependencies: ["TetherCore", "COnnxRuntime"]),
        // MuJoCo: models, parameters by name, stepping, sensors, batched rollouts; robot import (model
        // outline and manifest draft from a trainer's deployment configuration, which Yams reads).
        .target(
            name: "TetherSim",
            dependencies: ["TetherCore", "CMuJoCo", .product(name: "Yams", package: "Yams")],
            swiftSettings: nativeSwift,
            linkerSettings: nativeLink
        ),
        // Policies: observation builder / action mapper, ONNX policies, native MLP, ONNX writer
        // (generated from our subset of the ONNX schema, committed), ARS training, fine-tuning.
        .target(
            name: "TetherPolicy",
            dependencies: ["TetherCore", "TetherNumerics", "TetherSim", "TetherONNX",
                           .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["ONNX/onnx_subset.proto"],
            swiftSettings: nativeSwift,
            linkerSettings: nativeLink
        ),
        // Safety wrapper: limits, e-stop latch, watchdog, torque stages, filters. Pure logic, time passed in.
        .target(name: "TetherSafety", dependencies: ["TetherCore"]),
        // Deployment runtime: Robot protocol, fixed-rate loop, deployment state machine, flight recorder.
        .target(
            name: "TetherRuntime",
            dependencies: ["TetherCore", "TetherSim", "TetherPolicy", "TetherSafety", "TetherROS",
                           .product(name: "Histogram", package: "hdrhistogram-swift")],
            swiftSettings: nativeSwift,
            linkerSettings: nativeLink
        ),
        // The virtual robot: hidden truth parameters, actuator / sensor / link models over MuJoCo.
        .target(
            name: "TetherEmulator",
            dependencies: ["TetherCore", "TetherSim", "TetherRuntime", "TetherROS", "TetherRender"],
            swiftSettings: nativeSwift,
            linkerSettings: nativeLink
        ),
        // System identification: closed-form analyses, trajectory fitting, model patching, report.
        .target(
            name: "TetherCalibration",
            dependencies: ["TetherCore", "TetherNumerics", "TetherSim", "TetherROS", "TetherReport", .product(name: "Yams", package: "Yams")],
            swiftSettings: nativeSwift,
            linkerSettings: nativeLink
        ),
        // Validation gate, trials, gap report, improvement loop, the history as an observer of runs.
        .target(
            name: "TetherValidation",
            dependencies: ["TetherCore", "TetherNumerics", "TetherSim", "TetherONNX", "TetherPolicy", "TetherSafety", "TetherRuntime", "TetherCalibration",
                           "TetherROS", "TetherEmulator",
                           "TetherHistory", "TetherReport", .product(name: "Yams", package: "Yams")],
            swiftSettings: nativeSwift,
            linkerSettings: nativeLink
        ),
        // History: every validation, trial series, calibration and improvement, in a local SQLite database.
        .target(
            name: "TetherHistory",
            dependencies: ["TetherCore", "TetherReport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // Vision: images (JPEG / PNG), YOLO detectors through ONNX Runtime, NMS, COCO evaluation.
        // No MuJoCo: it needs neither the native include path nor the MuJoCo link settings.
        .target(
            name: "TetherVision",
            dependencies: ["TetherCore", "TetherNumerics", "TetherONNX", "TetherROS", "TetherReport", "CImageCodecs", .product(name: "Yams", package: "Yams")]
        ),
        // Pictures of the robot: MuJoCo's renderer offscreen (EGL), recordings to H.264 MP4 through ffmpeg.
        .target(
            name: "TetherRender",
            dependencies: ["TetherCore", "TetherSim", "TetherSafety", "TetherROS", "CMuJoCo", "CRender"],
            swiftSettings: nativeSwift,
            linkerSettings: nativeLink
        ),
        // ROS 2: CDR codec, message types, the DDS transport (over CCycloneDDS), MCAP (ROS 2 bag) writer and reader.
        .target(name: "TetherROS", dependencies: ["TetherCore", "CCycloneDDS"]),
        // Every `tether bench`: Tether and, in the same run, the peer a user would otherwise use (the
        // Python peers live in benchmarks/ and are found through TetherPaths.checkoutRoot()).
        .target(
            name: "TetherBench",
            dependencies: ["TetherCore", "TetherNumerics", "TetherSim", "CMuJoCo", "TetherONNX", "TetherPolicy", "TetherSafety", "TetherROS", "TetherRuntime",
                           "TetherCalibration", "TetherValidation", "TetherVision", "TetherRender"],
            swiftSettings: nativeSwift,
            linkerSettings: nativeLink
        ),
        // The command-line tool: argument parsing and printing only.
        .executableTarget(
            name: "tether",
            dependencies: [
                "TetherCore", "TetherNumerics", "TetherReport", "TetherSim", "TetherONNX", "TetherPolicy", "TetherSafety", "TetherROS", "TetherRuntime",
                "TetherEmulator", "TetherCalibration", "TetherValidation", "TetherVision", "TetherHistory", "TetherBench", "TetherRender",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: nativeSwift,
            linkerSettings: nativeLink
        ),
        .testTarget(name: "TetherNumericsTests", dependencies: ["TetherNumerics", "TetherCore"]),
        .testTarget(name: "TetherCoreTests", dependencies: ["TetherCore"]),
        .testTarget(name: "TetherReportTests", dependencies: ["TetherCore", "TetherReport"]),
        .testTarget(
            name: "TetherSimTests",
            dependencies: ["TetherCore", "TetherSim"],
            swiftSettings: nativeSwift,
            linkerSettings: nativeLink
        ),
        // Test-only: counts heap allocations (interposes malloc and friends) for the zero-allocation tick test.
        .target(name: "CAllocationCounter", path: "Tests/CAllocationCounter"),
        .testTarget(
            name: "TetherRuntimeTests",
            dependencies: ["TetherCore", "TetherSim", "TetherPolicy", "TetherSafety", "TetherROS", "TetherRuntime", "CAllocationCounter"],
            swiftSettings: nativeSwift,
            linkerSettings: nativeLink
        ),
        .testTarget(
            name: "TetherSafetyTests",
            dependencies: ["TetherSafety", "TetherCore",
                           .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(
            name: "TetherPolicyTests",
            dependencies: ["TetherCore", "TetherNumerics", "TetherSim", "TetherONNX", "TetherPolicy"],
            swiftSettings: nativeSwift,
            linkerSettings: nativeLink
        ),
        .testTarget(
            name: "TetherEmulatorTests",
            dependencies: ["TetherCore", "TetherSim", "TetherPolicy", "TetherSafety", "TetherRuntime", "TetherEmulator", "TetherROS", "TetherCalibration"],
            swiftSettings: nativeSwift,
            linkerSettings: nativeLink
        ),
        .testTarget(name: "TetherROSTests", dependencies: ["TetherCore", "TetherROS"]),
        .testTarget(
            name: "TetherValidationTests",
            dependencies: ["TetherCore", "TetherNumerics", "TetherSim", "TetherONNX", "TetherPolicy", "TetherSafety", "TetherRuntime", "TetherEmulator",
                           "TetherCalibration", "TetherValidation", "TetherROS", "TetherRender",
                           .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: nativeSwift,
            linkerSettings: nativeLink
        ),
        .testTarget(
            name: "TetherCalibrationTests",
            dependencies: ["TetherCore", "TetherNumerics", "TetherSim", "TetherROS", "TetherCalibration", "TetherRuntime", "TetherEmulator"],
            swiftSettings: nativeSwift,
            linkerSettings: nativeLink
        ),
        .testTarget(name: "TetherHistoryTests", dependencies: ["TetherCore", "TetherHistory"]),
        .testTarget(
            name: "TetherRenderTests",
            dependencies: ["TetherCore", "TetherSim", "TetherSafety", "TetherROS", "TetherRuntime", "TetherRender", "CMuJoCo"],
            swiftSettings: nativeSwift,
            linkerSettings: nativeLink
        ),
        .testTarget(
            name: "TetherBenchTests",
            dependencies: ["TetherCore", "TetherSim", "TetherPolicy", "TetherCalibration", "TetherValidation", "TetherVision", "TetherBench"],
            swiftSettings: nativeSwift,
            linkerSettings: nativeLink
        ),
        .testTarget(
            name: "TetherVisionTests",
            dependencies: ["TetherCore", "TetherROS", "TetherVision",
                           .product(name: "PropertyBased", package: "swift-property-based")]
        ),
    ]
)
