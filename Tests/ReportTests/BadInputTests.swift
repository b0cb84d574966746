import Foundation
@testable import Report
import TestSupport
import Testing

/// Broken paper.toml and reported.toml pairs (over studies base, a and b): each is refused with one
/// line per problem, naming the file and the key.
@Suite struct PaperBadInputTests {
    @Test func everyBrokenPairGivesItsMessage() throws {
        for item in try BadInput.cases("paper", atLeast: 5) {
            let message = BadInput.message("paper") {
                let paper = try PaperSpec.load(from: item.input.appendingPathComponent("paper.toml"), studies: ["base", "a", "b"])
                _ = try ReportedNumbers.load(from: item.input.appendingPathComponent("reported.toml"), paper: paper)
            }
            #expect(message == item.expected, "\(item.input.lastPathComponent)")
        }
    }
}
