import Foundation
import Metrics
import TestSupport
import Testing

/// Broken MME result folders: each is refused with a line naming the file, the line and the rule.
@Suite struct MMEBadInputTests {
    @Test func everyBrokenFolderGivesItsMessage() throws {
        for item in try BadInput.cases("mme", atLeast: 5) {
            #expect(BadInput.message("mme") { _ = try MME.score(MME.readResults(item.input)) } == item.expected, "\(item.input.lastPathComponent)")
        }
    }
}
