import Data
import Foundation
@testable import Pipeline
@testable import Study
import Testing

/// The pretraining rows the stages train and are measured on.
@Suite struct PretrainingSplitTests {
    @Test func heldOutScenesNeverTrainAndSkillsKeepOnlyTheirQuestions() throws {
        let (_, data, workspace) = try tinySetup()
        defer { try? FileManager.default.removeItem(at: workspace) }
        let split = PretrainingSplit(data.pretraining)
        let everything = split.train(.caption, .question)
        #expect(Set(everything.map(\.scene)).isDisjoint(with: split.heldOut(.caption, .question).map(\.scene)))
        #expect(everything.contains { $0.form == .caption })

        let skills: Set<Skill> = [.existence, .color]
        let kept = split.train(.caption, .question, skills: skills)
        #expect(!kept.isEmpty)
        #expect(kept.count == everything.filter { $0.skill.map(skills.contains) == true }.count)
        // The tiny corpus holds out one scene, which may ask neither skill.
        for rows in [kept, split.heldOut(.caption, .question, skills: skills)] {
            #expect(rows.allSatisfy { $0.form == .question && $0.skill.map(skills.contains) == true })
        }
    }
}
