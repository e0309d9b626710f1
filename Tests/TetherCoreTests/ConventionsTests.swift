import Foundation
import Testing
@testable import TetherCore

/// A robot whose manifest lists joints leg by leg (the model's order) while the policy reads them
/// breadth-first (Isaac Lab's order), with a passive tail joint between the hips and the knees.
let breadthFirstYAML = try! String(
    contentsOfFile: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("tests/fixtures/biped-breadth-first.yaml").path, encoding: .utf8)

@Suite struct ConventionsTests {
    @Test func policyJointOrderMapsJointsByName() throws {
        let m = try Manifest.parse(yaml: breadthFirstYAML)
        #expect(m.policyJointOrder == ["l_hip", "r_hip", "tail", "l_knee", "r_knee"])
        #expect(m.policyJointIndices == [0, 2, 4, 1, 3])
        #expect(m.policyActuatedJoints.map(\.name) == ["l_hip", "r_hip", "l_knee", "r_knee"])
        #expect(m.policyActionIndices == [0, 2, 1, 3])
        #expect(m.actuatedJoints.map(\.name) == ["l_hip", "l_knee", "r_hip", "r_knee"])
        #expect(m.observationSize == 5 + 5 + 4)
        // Without the field the policy's order is the manifest's.
        let plain = try Manifest.parse(yaml: validYAML)
        #expect(plain.policyJointIndices == [0, 1] && plain.policyActionIndices == [0, 1])
    }

    @Test func actionsInPolicyOrderDriveTheirJoints() throws {
        let m = try Manifest.parse(yaml: breadthFirstYAML)
        let mapper = ActionMapper(manifest: m)
        // action.scale is in the policy's order: l_hip 1, r_hip 2, l_knee 3, r_knee 4.
        #expect(mapper.scale == [1, 3, 2, 4])
        let command = try mapper.command(for: [0.1, 0.2, 0.3, 0.4])
        // Manifest (command) order l_hip, l_knee, r_hip, r_knee; target = default + scale · action.
        let expected = [0.1 + 1 * 0.1, 0.2 + 3 * 0.3, 0.3 + 2 * 0.2, 0.4 + 4 * 0.4]
        for (a, b) in zip(command.positions, expected) { #expect(abs(a - b) < 1e-6) }
        #expect(command.kp == [10, 20, 30, 40] && command.kd == [1, 2, 3, 4])
        // The inverse gives the raw action back, in the policy's order.
        let raw = mapper.action(for: command.positions)
        for (a, b) in zip(raw, [0.1, 0.2, 0.3, 0.4]) { #expect(abs(a - b) < 1e-6) }
        do {
            _ = try mapper.command(for: [0, .nan, 0, 0])
            Issue.record("a NaN action must be refused")
        } catch let error as TetherError {
            #expect(error.what.contains("r_hip"))  // action 1 is r_hip in the policy's order
        }
    }

    @Test func badPolicyJointOrdersNameTheField() throws {
        func variant(_ order: String) -> String {
            breadthFirstYAML.replacingOccurrences(of: "policy_joint_order: [l_hip, r_hip, tail, l_knee, r_knee]", with: "policy_joint_order: \(order)")
        }
        let unknown = problems(variant("[l_hpi, r_hip, tail, l_knee, r_knee]"))
        #expect(unknown.contains { $0.field == "policy_joint_order[0]" && $0.kind == .unknownJoint && $0.message.contains("did you mean 'l_hip'") })
        #expect(unknown.contains { $0.field == "policy_joint_order" && $0.message.contains("does not list l_hip") })
        let duplicate = problems(variant("[l_hip, l_hip, r_hip, tail, l_knee, r_knee]"))
        #expect(duplicate.contains { $0.field == "policy_joint_order[1]" && $0.kind == .duplicateJoint && $0.message.contains("listed twice") })
        let missing = problems(variant("[l_hip, r_hip, l_knee, r_knee]"))
        #expect(missing.count == 1 && missing[0].field == "policy_joint_order" && missing[0].message.contains("tail"))
        #expect(missing[0].expected?.contains("every manifest joint exactly once") ?? false)
        #expect(missing[0].line == 13)
        let notList = problems(variant("l_hip"))
        #expect(notList.contains { $0.field == "policy_joint_order" && $0.kind == .wrongType })
    }

    @Test func historyLayoutsAndPerTermHistorySizeTheVector() throws {
        let base = validYAML.replacingOccurrences(of: "observation:\n  terms:", with: "observation:\n  history: 3\n  history_layout: LAYOUT\n  terms:")
        for layout in Manifest.Observation.HistoryLayout.allCases {
            let m = try Manifest.parse(yaml: base.replacingOccurrences(of: "LAYOUT", with: layout.rawValue))
            #expect(m.observation.historyLayout == layout && m.observationSize == 6 * 3)
        }
        let perTerm = base.replacingOccurrences(of: "LAYOUT", with: "term_oldest_first")
            .replacingOccurrences(of: "{source: joint_positions}", with: "{source: joint_positions, history: 5}")
        let m = try Manifest.parse(yaml: perTerm)
        #expect(m.observationSize == 2 * 5 + 2 * 3 + 2 * 3)
        #expect(m.observationSizeBreakdown == "22 = 2×5 + 2×3 + 2×3 (term_oldest_first)")
        let unknown = problems(base.replacingOccurrences(of: "LAYOUT", with: "isaac"))
        #expect(unknown.contains { $0.field == "observation.history_layout" && ($0.expected?.contains("term_oldest_first") ?? false) })
        let frameWithTermHistory = problems(base.replacingOccurrences(of: "LAYOUT", with: "frame_newest_first")
            .replacingOccurrences(of: "{source: joint_positions}", with: "{source: joint_positions, history: 5}"))
        #expect(frameWithTermHistory.contains { $0.field == "observation.terms[0].history" && $0.message.contains("per-term layout") })
        let zero = problems(perTerm.replacingOccurrences(of: "history: 5", with: "history: 0"))
        #expect(zero.contains { $0.field == "observation.terms[0].history" })
        // The default layout and its figures are unchanged.
        let plain = try Manifest.parse(yaml: validYAML)
        #expect(plain.observation.historyLayout == .frameNewestFirst && plain.observationSize == 6)
        #expect(plain.observationSizeBreakdown == "6 = 2 + 2 + 2")
    }

    @Test func gaitClockTakesAFrequencyOrAPeriod() throws {
        let withPhase = validYAML.replacingOccurrences(of: "    - {source: last_action}", with: "    - {source: last_action}\n    - {source: gait_phase}")
        let period = try Manifest.parse(yaml: withPhase.replacingOccurrences(of: "observation:\n",
                                                                             with: "observation:\n  gait_period: 0.8\n  gait_clock_start: 0.02\n"))
        #expect(period.observation.gaitPeriod == 0.8 && period.observation.gaitFrequency == nil && period.observation.gaitClockStart == 0.02)
        let both = problems(withPhase.replacingOccurrences(of: "observation:\n", with: "observation:\n  gait_period: 0.8\n  gait_frequency: 1.25\n"))
        #expect(both.contains { $0.field == "observation.gait_period" && $0.message.contains("both") })
        let neither = problems(withPhase)
        #expect(neither.contains { $0.field == "observation.gait_frequency" && ($0.expected?.contains("gait_period") ?? false) })
        let negative = problems(withPhase.replacingOccurrences(of: "observation:\n", with: "observation:\n  gait_period: -0.8\n"))
        #expect(negative.contains { $0.field == "observation.gait_period" })
    }
}
