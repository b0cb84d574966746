import Foundation
import Metrics
@testable import Report
import Testing

/// Does a run reproduce the committed one: its numbers against the committed seeds.
@Suite struct ReferenceRunTests {
    @Test func oneSeedIsJudgedByThePredictionIntervalOfTheCommittedSeeds() {
        let committed = [4.50, 4.52, 4.49]
        // mean 4.5033, s 0.01528, t(2) 4.3027: one more seed lies within ±0.0759 of the mean.
        #expect(ReferenceRun.consistent([4.55], with: committed) == true)
        #expect(ReferenceRun.consistent([4.60], with: committed) == false)
        #expect(ReferenceRun.consistent([4.55], with: [4.50]) == nil, "one committed seed gives no spread to judge by")
        #expect(ReferenceRun.consistent([4.50], with: [4.50]) == true, "equal bits are consistent")
    }

    @Test func severalSeedsAreJudgedByWelchsTest() {
        let committed = [4.50, 4.52, 4.49]
        #expect(ReferenceRun.consistent([4.51, 4.53, 4.50], with: committed) == true)
        #expect(ReferenceRun.consistent([4.70, 4.72, 4.71], with: committed) == false)
        #expect(ReferenceRun.consistent([1, 1], with: [2, 2]) == false, "no spread on either side and different means")
        #expect(ReferenceRun.consistent([], with: committed) == nil)
    }

    @Test func aReferenceRoundTripsThroughItsFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("repro-reference-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(try ReferenceRun.read(from: folder) == nil)
        let made = try HandMade()
        defer { made.remove() }
        try made.run("exp01-medium-default", metrics: ["test_loss": 4.5, "rouge1": 0.3])
        let results = try StoredResults.read(workspace: made.workspace, catalog: made.catalog, studies: ["exp01-medium-default"])
        let reference = ReferenceRun(results: results, studies: ["exp01-medium-default"], profile: nil)
        _ = try reference.write(to: folder)
        #expect(try ReferenceRun.read(from: folder) == reference)
        #expect(reference.studies["exp01-medium-default"] == [["test_loss": 4.5, "rouge1": 0.3]])
        try Data("{}".utf8).write(to: folder.appendingPathComponent(ReferenceRun.fileName))
        #expect(throws: (any Error).self) { try ReferenceRun.read(from: folder) }
    }
}
