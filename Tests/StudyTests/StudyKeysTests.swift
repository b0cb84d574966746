import Foundation
@testable import Study
import Testing

/// The study-file reference (`repro keys`, README.md) names every key the files are validated
/// against, and nothing else.
@Suite struct StudyKeysTests {
    @Test func theReferenceListsExactlyTheSettableKeys() {
        let listed = StudyKeys.meanings.map(\.key)
        #expect(Set(listed).count == listed.count, "a key is listed twice")
        let settable = StudyKeys.settable()
        #expect(settable.count > 60)
        #expect(settable.subtracting(listed).sorted() == [], "keys without a meaning")
        #expect(Set(listed).subtracting(settable).sorted() == [], "meanings of keys that do not exist")
    }

    @Test func theReferenceShowsTheProjectsDefaults() throws {
        let studies = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("studies")
        let lines = try StudyKeys.reference(directory: studies).split(separator: "\n")
        #expect(lines.count == StudyKeys.meanings.count + 2)
        // defaults.toml's own values, not the code's: 96-pixel images in 16-pixel patches, no adapters.
        #expect(lines.contains { $0.hasPrefix("| `data.image_size` | `96` |") })
        #expect(lines.contains { $0.hasPrefix("| `lora.r` | `0` |") })
        #expect(lines.contains { $0.hasPrefix("| `model.vision_config.*` |") && $0.contains("patch_size 16") && !$0.contains("image_size") })
    }
}
