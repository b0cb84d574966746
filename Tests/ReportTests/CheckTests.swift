import Foundation
@testable import Report
import Study
import Testing

/// The paper's own consistency and the points of method, on its printed numbers and hand-made studies.
@Suite final class CheckTests {
    let made: HandMade
    let paper: PaperSpec
    let reported: ReportedNumbers

    init() throws {
        made = try HandMade()
        paper = try PaperSpec.load(from: HandMade.paperFolder.appendingPathComponent("paper.toml"), studies: Set(made.catalog.studies.map(\.name)))
        reported = try ReportedNumbers.load(from: HandMade.paperFolder.appendingPathComponent("reported.toml"), paper: paper)
    }

    deinit { made.remove() }

    func check(_ reported: ReportedNumbers) throws -> Check {
        let results = try StoredResults.read(workspace: made.workspace, catalog: made.catalog, studies: paper.studies)
        return Check(paper: paper, reported: reported, results: results, catalog: made.catalog)
    }

    @Test func thePaperAgreesWithItselfButRepeatsValues() throws {
        let points = try check(reported).consistency().map(\.plain)
        #expect(points[0] == "Table 2 against Table 1: all 10 losses in Table 2 equal the test loss Table 1 prints for the same experiment.")
        #expect(points[1].hasPrefix("The improvement formula: (standard − enhanced) / standard × 100, as section 4.5 states it, gives all 5 printed percentages"))
        #expect(points[1].contains("Relative to the enhanced loss it would give 75.4, 74.9, 77.1, 72.8, 5.7."))
        #expect(points[2].hasPrefix("Repeated values in Table 1: ROUGE-1 0.2282 in exp 2, exp 4; MME overall 1339.66 in exp 2, exp 5."))
        #expect(points[3].contains("Table 1 ranks its test loss 6 of 10, and it is best only on CLIP score"))
    }

    @Test func inconsistenciesAreCounted() throws {
        var doctored = reported
        doctored.table2["small"]!.standard = 5.70
        doctored.table2["large"]!.improvement = 40.0
        let points = try check(doctored).consistency().map(\.plain)
        #expect(points[0] == "Table 2 against Table 1: 1 of 10 differ — Small: Table 2 5.7000, Table 1 5.7099 (exp 2).")
        // Small's own percentage no longer follows from its changed loss either.
        #expect(points[1] == "The improvement formula: (standard − enhanced) / standard × 100 gives only 3 of 5 printed percentages from Table 2's printed losses.")
    }

    @Test func pointsOfMethodFollowTheStudies() throws {
        let points = try check(reported).methodPoints().map(\.plain)
        #expect(points[0].contains("10 of 10 experiments here do the same (`select_best = \"eval_loss\"`"))
        #expect(points[1].hasPrefix("Few checkpoints to choose from: 3 epochs of 1000 samples at 32 a step take about 94 steps, with no checkpoint before the end at one every 100 steps; 6 epochs of 1000 samples at 32 a step take about 188 steps, with one checkpoint before the end"))
        #expect(points[2].hasPrefix("Size variants discard pretrained weights. exp 1, exp 2, exp 3, exp 4, exp 5, exp 6, exp 7, exp 8 change"), "hand-made size variants change the vision encoder's activation")
        #expect(points[3].hasPrefix("Extended training is confounded with size: exp 9, exp 10 are the only 6-epoch runs"))
        #expect(points[4].contains("(seed 0)"))
        #expect(points[5].contains("no experiment counts padding"))
    }
}
