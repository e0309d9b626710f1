import Foundation
import TetherCore
import TetherRender
import TetherSim
import TetherValidation

/// The worst real trial beside its simulated twin (the same trial index: the same seed, start and
/// command), rendered into `directory/worst-trial.mp4` and added to the gap report's "See it"
/// section. The worst trial: a failed one that ended earliest, else the lowest score. Says why
/// when there is nothing to render (no recordings: trials run with --no-record); never fails the
/// report.
func attachWorstTrialVideo(_ gap: inout GapReport, sim: [TrialRecord], real: [TrialRecord], robot: RobotModel, directory: String,
                           log: (String) -> Void = { print($0) }) {
    let recorded = real.filter { $0.recording.map { FileManager.default.fileExists(atPath: $0) } ?? false }
    guard let worst = recorded.min(by: { a, b in
        if a.success != b.success { return !a.success }
        if !a.success { return a.episodeSeconds < b.episodeSeconds }
        return a.score < b.score
    }), let realPath = worst.recording else {
        log("   (no video: the real trials have no flight recordings)")
        return
    }
    let twin = sim.first { $0.trial == worst.trial && $0.recording.map { FileManager.default.fileExists(atPath: $0) } ?? false }
    let output = "\(directory)/worst-trial.mp4"
    var render = RecordingRender()
    (render.width, render.height) = twin == nil ? (640, 360) : (1280, 360)
    render.effects = false
    do {
        let realTimeline = try RecordingTimeline(path: realPath, robot: robot)
        let outcome = worst.success ? "succeeded, lowest score" : "failed: \(worst.failureMode), \(String(format: "%.1f", worst.episodeSeconds)) s"
        let title: String
        if let twin, let simPath = twin.recording {
            let simTimeline = try RecordingTimeline(path: simPath, robot: robot)
            _ = try render.renderComparison(left: ("sim trial \(twin.trial) (\(twin.success ? "ok" : twin.failureMode))", simTimeline),
                                            right: ("real trial \(worst.trial) (\(worst.success ? "ok" : worst.failureMode))", realTimeline),
                                            robot: robot, to: output)
            title = "The worst real trial (\(worst.trial), \(outcome)) beside the same trial in simulation"
        } else {
            _ = try render.render(realTimeline, robot: robot, to: output)
            title = "The worst real trial (\(worst.trial), \(outcome)); its simulated twin has no recording"
        }
        gap.videos = [ReportVideo(title: title, path: (output as NSString).lastPathComponent)]
        log("   video of the worst real trial beside its simulated twin: \(output)")
    } catch {
        log("   (no video of the worst trial: \(error))")
    }
}
