import Foundation
import Model
import TestSupport
import Testing

/// Broken Hugging Face model folders: each is refused with a line naming the file and the problem.
@Suite struct ModelBadInputTests {
    @Test func everyBrokenFolderGivesItsMessage() throws {
        for item in try BadInput.cases("model", atLeast: 5) {
            #expect(BadInput.message("model") { _ = try InstructBlip.load(huggingFace: item.input) } == item.expected, "\(item.input.lastPathComponent)")
        }
    }
}
