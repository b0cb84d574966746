import Data
import Foundation
import TestSupport
import Testing

/// Broken tokenizer files and data recipes: each is refused with a line naming the file and the problem.
@Suite struct DataBadInputTests {
    @Test func everyBrokenTokenizerGivesItsMessage() throws {
        for item in try BadInput.cases("tokenizer", atLeast: 3) {
            #expect(BadInput.message("tokenizer") { _ = try Tokenizer.load(from: item.input) } == item.expected, "\(item.input.lastPathComponent)")
        }
    }

    @Test func everyBrokenRecipeGivesItsMessage() throws {
        for item in try BadInput.cases("recipe", atLeast: 5) {
            #expect(BadInput.message("recipe") { _ = try DataRecipe.load(from: item.input) } == item.expected, "\(item.input.lastPathComponent)")
        }
    }
}
