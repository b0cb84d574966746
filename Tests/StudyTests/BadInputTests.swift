import Foundation
@testable import Pipeline
@testable import Study
import TestSupport
import Testing

/// Broken study folders, and fuzzed study files: each is refused with one line per problem, naming
/// the file and the key, or loads.
@Suite struct StudyBadInputTests {
    @Test func everyBrokenFolderGivesItsMessage() throws {
        for item in try BadInput.cases("studies", atLeast: 11) {
            #expect(BadInput.message("studies") { _ = try StudyCatalog.load(directory: item.input) } == item.expected, "\(item.input.lastPathComponent)")
        }
    }

    @Test func everyBrokenWorkspaceGivesItsMessage() throws {
        for item in try BadInput.cases("workspace", atLeast: 3) {
            #expect(BadInput.message("workspace") { _ = try ResultsStore(workspace: item.input) } == item.expected, "\(item.input.lastPathComponent)")
        }
    }

    /// Random edits of the project's own experiment file (over its real defaults): every one loads
    /// or is refused with study errors, never a crash or a hang.
    @Test func fuzzedStudyFilesLoadOrAreRefused() throws {
        let studies = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("studies")
        let valid = [UInt8](try Data(contentsOf: studies.appendingPathComponent("exp03-medium-enhanced.toml")))
        let folder = try StudyFolder([
            "defaults.toml": try String(contentsOf: studies.appendingPathComponent("defaults.toml"), encoding: .utf8),
            "experiment.toml": try String(contentsOf: studies.appendingPathComponent("experiment.toml"), encoding: .utf8)
                .replacingOccurrences(of: "init = \"instruct\"", with: ""),
        ])
        defer { try? FileManager.default.removeItem(at: folder.url) }
        var mutator = Mutator(seed: 2026)
        let iterations = 1000
        var loaded = 0, refused = 0
        for _ in 0..<iterations {
            try Data(mutator.mutate(valid)).write(to: folder.url.appendingPathComponent("s.toml"))
            do {
                _ = try folder.load()
                loaded += 1
            } catch let errors as StudyErrors {
                #expect(!errors.errors.isEmpty)
                refused += 1
            } catch let error as StudyError {
                #expect(!error.problem.isEmpty)
                refused += 1
            }
        }
        print("study-file fuzzing: \(iterations) mutated files, \(loaded) loaded, \(refused) refused")
        #expect(loaded + refused == iterations && refused > 0)
    }
}
