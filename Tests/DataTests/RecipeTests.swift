@testable import Data
import Foundation
import Testing

@Suite struct RecipeTests {
    @Test func canonicalJSONIsSortedAndStable() throws {
        let json = String(decoding: DataRecipe().canonicalJSON, as: UTF8.self)
        // Stable: the same recipe with its dictionaries built in another order (and so laid out
        // differently in memory) gives the same bytes, and so does the recipe read back from them.
        var reordered = DataRecipe()
        var skills: [Skill: Int] = [:], groups: [QueryGroup: Int] = [:]
        skills.reserveCapacity(64)
        groups.reserveCapacity(64)
        for (skill, weight) in DataRecipe().skillWeights.sorted(by: { $0.key.rawValue > $1.key.rawValue }) { skills[skill] = weight }
        for (group, weight) in DataRecipe().finetuneGroupWeights.sorted(by: { $0.key.rawValue > $1.key.rawValue }) { groups[group] = weight }
        reordered.skillWeights = skills
        reordered.finetuneGroupWeights = groups
        #expect(String(decoding: reordered.canonicalJSON, as: UTF8.self) == json)
        let readBack = try JSONDecoder().decode(DataRecipe.self, from: Data(json.utf8))
        #expect(String(decoding: readBack.canonicalJSON, as: UTF8.self) == json)
        #expect(json.hasPrefix(#"{"backgrounds":["white","black"],"benchmark_images_per_subtask":40,"#))
        #expect(json.contains(#""skill_weights":{"arithmetic":1,"background":1,"#), "dictionaries are keyed objects in sorted order")
        let decoded = try JSONDecoder().decode(DataRecipe.self, from: DataRecipe().canonicalJSON)
        #expect(decoded == DataRecipe())
        var changed = DataRecipe()
        changed.maxObjects = 3
        #expect(changed.canonicalJSON != DataRecipe().canonicalJSON)
    }

    @Test func partialJSONKeepsDefaults() throws {
        let recipe = try JSONDecoder().decode(DataRecipe.self, from: Data(#"{"max_objects": 2, "shapes": ["circle", "square"]}"#.utf8))
        var expected = DataRecipe()
        expected.maxObjects = 2
        expected.shapes = [.circle, .square]
        #expect(recipe == expected)
    }

    @Test func unknownKeysAndBadValuesAreNamed() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("repro-recipe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func load(_ json: String) -> String {
            let url = folder.appendingPathComponent("recipe.json")
            try! Data(json.utf8).write(to: url)
            do {
                _ = try DataRecipe.load(from: url)
                return "loaded"
            } catch {
                return "\(error)".replacingOccurrences(of: url.path, with: "recipe.json")
            }
        }
        #expect(load(#"{"max_objects": 3}"#) == "loaded")
        #expect(load(#"{"max_object": 3}"#).hasPrefix("recipe.json: max_object: unknown data recipe key 'max_object' (known: image_size, shapes,"))
        #expect(load(#"{"shapes": ["circle", "blob"]}"#).hasPrefix("recipe.json: shapes."))
        #expect(load(#"{"max_objects": 12}"#) == "recipe.json: max_objects: 12 must lie between min_objects (1) and the 9 grid cells")
        #expect(load(#"{"colors": ["red"], "text_probability": 2}"#) == """
            recipe.json: colors: needs at least two colors, so that color questions can be answered no
            recipe.json: text_probability: 2.0 is not a probability
            """)
        #expect(load(#"{"fills": ["solid", "solid"]}"#) == "recipe.json: fills: lists a value twice")
    }
}
