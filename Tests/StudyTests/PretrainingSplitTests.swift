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
        let everything = split.train(.caption, .question), heldOutEverything = split.heldOut(.caption, .question)
        #expect(!heldOutEverything.isEmpty, "the tiny corpus holds out a scene")
        #expect(Set(everything.map(\.scene)).isDisjoint(with: heldOutEverything.map(\.scene)))
        #expect(everything.contains { $0.form == .caption })

        // Two skills, and one the held-out scene asks, so that neither filtered set can be empty.
        let askedHeldOut = heldOutEverything.compactMap(\.skill)
        let asked = try #require(askedHeldOut.first, "the held-out scene has questions")
        let skills: Set<Skill> = [.existence, .color, asked]
        for (all, kept) in [(everything, split.train(.caption, .question, skills: Array(skills))),
                            (heldOutEverything, split.heldOut(.caption, .question, skills: Array(skills)))] {
            #expect(!kept.isEmpty && kept.count < all.count, "the filter keeps some rows and leaves some out")
            #expect(kept.count == all.filter { $0.form == .question && $0.skill.map(skills.contains) == true }.count)
            #expect(kept.allSatisfy { $0.form == .question && $0.skill.map(skills.contains) == true })
        }
    }

    @Test func aSkillListedTwiceTrainsTwiceAndIsMeasuredOnce() throws {
        let (_, data, workspace) = try tinySetup()
        defer { try? FileManager.default.removeItem(at: workspace) }
        let split = PretrainingSplit(data.pretraining)
        let asked = try #require(split.heldOut(.question).compactMap(\.skill).first, "the held-out scene has questions")
        let other = try #require(split.train(.question).compactMap(\.skill).first { $0 != asked }, "the corpus asks two skills")
        let once = split.train(.question, skills: [asked, other])
        let twice = split.train(.question, skills: [asked, other, asked])
        // Each of the repeated skill's rows twice, in place; the other skill's rows once; nothing else.
        let expected = once.flatMap { row in row.skill == asked ? [row, row] : [row] }
        #expect(twice == expected)
        #expect(twice.count > once.count)
        #expect(split.heldOut(.question, skills: [asked, other, asked]).count == split.heldOut(.question, skills: [asked, other]).count)
    }
}
