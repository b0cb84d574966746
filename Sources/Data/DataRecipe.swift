import Foundation

/// How hard the rendered world is and how much data each corpus holds: every knob a study may tune.
///
/// The defaults are a modest world (4 shapes, 6 colours, 2 sizes, 2 fills, 2 backgrounds,
/// 1-4 objects), because a small model must learn to see it within minutes; make the world
/// simpler before making the training budget longer. JSON keys are snake_case; a partial
/// object keeps the defaults for the keys it omits and rejects keys it does not know.
public struct DataRecipe: Codable, Hashable, Sendable {
    /// Side of the square RGB image, in pixels.
    public var imageSize = 64
    public var shapes: [Shape] = [.circle, .square, .triangle, .star]
    public var colors: [Color] = [.red, .green, .blue, .yellow, .purple, .orange]
    public var sizes: [Size] = [.small, .large]
    public var fills: [Fill] = [.solid, .outlined]
    public var backgrounds: [Background] = [.white, .black]
    /// Fewest objects in a scene.
    public var minObjects = 1
    /// Most objects in a scene (a scene with text has 6 free cells, since the text takes the bottom row).
    public var maxObjects = 4
    /// Chance that a scene shows text.
    public var textProbability = 0.3
    /// The kinds of text a scene may show.
    public var textKinds: [TextKind] = TextKind.allCases
    /// Largest random shift of an object from its cell's centre, as a fraction of the cell side.
    public var positionJitter = 0.0

    /// Scenes in the pretraining corpus; each gives one caption row plus the rows below.
    public var pretrainingScenes = 8_000
    /// Visual question rows per pretraining scene.
    public var questionsPerScene = 3
    /// Rows per pretraining scene in which the caption stands before the question as text (none by
    /// default: the language stage reads each scene's code instead, see `SceneCode`).
    public var readingRowsPerScene = 0
    /// Rows per pretraining scene whose answer is a sentence or more (`LongFormKind`: an account of
    /// the scene, an answer explained in a sentence, a false premise corrected).
    public var longFormRowsPerScene = 0
    /// Whether a position question in a scene of two objects compares the object it names with "the
    /// other object", rather than naming both: finding the first of two objects named was the step a
    /// small Q-Former failed at (see docs/findings.md, align), and with two objects "the other" is exact.
    public var positionOtherObject = false
    /// Share of pretraining questions asked in yes/no form (the rest are open, with a short answer).
    public var yesNoFraction = 0.5
    /// Relative frequency of each skill among pretraining questions (existence and location
    /// weigh most because they were the skills a small model failed to learn).
    public var skillWeights: [Skill: Int] = [
        .existence: 4, .location: 4, .position: 3, .count: 2, .color: 2, .shape: 2, .size: 1,
        .fill: 1, .background: 1, .text: 2, .comparison: 1, .arithmetic: 1, .translation: 1, .code: 1,
    ]

    /// Samples in the VL-RewardBench-shaped fine-tuning set.
    public var finetuneSamples = 1_250
    /// Share of the fine-tuning samples held out for testing (the paper: 250 of 1,250).
    public var finetuneTestFraction = 0.2
    /// Relative size of each query group (VL-RewardBench's: 183 general, 749 hallucination, 318 reasoning).
    public var finetuneGroupWeights: [QueryGroup: Int] = [.general: 183, .hallucination: 749, .reasoning: 318]

    /// Images per MME-style subtask; each image carries two questions.
    public var benchmarkImagesPerSubtask = 40

    /// Tokenizer vocabulary size, special and byte tokens included (training may stop short of it
    /// when the corpus has no pair left to merge).
    public var vocabularySize = 1_000

    /// Varies every scene of every corpus at once; the same recipe always gives the same data.
    public var seed: UInt64 = 0

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case imageSize = "image_size", shapes, colors, sizes, fills, backgrounds
        case minObjects = "min_objects", maxObjects = "max_objects"
        case textProbability = "text_probability", textKinds = "text_kinds", positionJitter = "position_jitter"
        case pretrainingScenes = "pretraining_scenes", questionsPerScene = "questions_per_scene"
        case readingRowsPerScene = "reading_rows_per_scene", longFormRowsPerScene = "long_form_rows_per_scene"
        case yesNoFraction = "yes_no_fraction"
        case positionOtherObject = "position_other_object"
        case skillWeights = "skill_weights"
        case finetuneSamples = "finetune_samples", finetuneTestFraction = "finetune_test_fraction"
        case finetuneGroupWeights = "finetune_group_weights"
        case benchmarkImagesPerSubtask = "benchmark_images_per_subtask"
        case vocabularySize = "vocabulary_size", seed
    }

    public init(from decoder: any Decoder) throws {
        let names = try decoder.container(keyedBy: AnyCodingKey.self).allKeys.map(\.stringValue)
        if let unknown = names.sorted().first(where: { CodingKeys(stringValue: $0) == nil }) {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath + [AnyCodingKey(stringValue: unknown)],
                debugDescription: "unknown data recipe key '\(unknown)' (known: \(CodingKeys.allCases.map(\.rawValue).joined(separator: ", ")))"))
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func value<T: Decodable>(_ key: CodingKeys, _ keyPath: WritableKeyPath<DataRecipe, T>, into recipe: inout DataRecipe) throws {
            if let decoded = try c.decodeIfPresent(T.self, forKey: key) { recipe[keyPath: keyPath] = decoded }
        }
        var r = DataRecipe()
        try value(.imageSize, \.imageSize, into: &r)
        try value(.shapes, \.shapes, into: &r)
        try value(.colors, \.colors, into: &r)
        try value(.sizes, \.sizes, into: &r)
        try value(.fills, \.fills, into: &r)
        try value(.backgrounds, \.backgrounds, into: &r)
        try value(.minObjects, \.minObjects, into: &r)
        try value(.maxObjects, \.maxObjects, into: &r)
        try value(.textProbability, \.textProbability, into: &r)
        try value(.textKinds, \.textKinds, into: &r)
        try value(.positionJitter, \.positionJitter, into: &r)
        try value(.pretrainingScenes, \.pretrainingScenes, into: &r)
        try value(.questionsPerScene, \.questionsPerScene, into: &r)
        try value(.readingRowsPerScene, \.readingRowsPerScene, into: &r)
        try value(.longFormRowsPerScene, \.longFormRowsPerScene, into: &r)
        try value(.yesNoFraction, \.yesNoFraction, into: &r)
        try value(.positionOtherObject, \.positionOtherObject, into: &r)
        try value(.skillWeights, \.skillWeights, into: &r)
        try value(.finetuneSamples, \.finetuneSamples, into: &r)
        try value(.finetuneTestFraction, \.finetuneTestFraction, into: &r)
        try value(.finetuneGroupWeights, \.finetuneGroupWeights, into: &r)
        try value(.benchmarkImagesPerSubtask, \.benchmarkImagesPerSubtask, into: &r)
        try value(.vocabularySize, \.vocabularySize, into: &r)
        try value(.seed, \.seed, into: &r)
        self = r
    }

    /// The recipe as JSON with sorted keys and no whitespace: equal recipes give equal bytes, so a
    /// study can hash them.
    public var canonicalJSON: Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a struct of plain values cannot fail.
        return try! encoder.encode(self)
    }

    /// Reads a recipe from a JSON file (missing keys keep their defaults) and validates it.
    public static func load(from url: URL) throws -> DataRecipe {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw DataError("\(url.path): cannot be read") }
        let recipe: DataRecipe
        do {
            recipe = try JSONDecoder().decode(DataRecipe.self, from: data)
        } catch let error as DecodingError {
            throw DataError("\(url.path): \(describe(error))")
        }
        let problems = recipe.problems
        guard problems.isEmpty else {
            throw DataError(problems.map { "\(url.path): \($0)" }.joined(separator: "\n"))
        }
        return recipe
    }

    /// One line per knob whose value cannot make a world, naming the key; empty when the recipe is usable.
    public var problems: [String] {
        var problems: [String] = []
        func check(_ ok: Bool, _ key: CodingKeys, _ message: String) {
            if !ok { problems.append("\(key.rawValue): \(message)") }
        }
        check(imageSize >= 32, .imageSize, "\(imageSize) is too small to draw legible text (at least 32)")
        check(shapes.count >= 2, .shapes, "needs at least two shapes, so that shape questions can be answered no")
        check(colors.count >= 2, .colors, "needs at least two colors, so that color questions can be answered no")
        check(!sizes.isEmpty, .sizes, "needs at least one size")
        check(!fills.isEmpty, .fills, "needs at least one fill")
        check(!backgrounds.isEmpty, .backgrounds, "needs at least one background")
        func checkNoRepeats<T: Hashable>(_ list: [T], _ key: CodingKeys) {
            check(Set(list).count == list.count, key, "lists a value twice")
        }
        checkNoRepeats(shapes, .shapes)
        checkNoRepeats(colors, .colors)
        checkNoRepeats(sizes, .sizes)
        checkNoRepeats(fills, .fills)
        checkNoRepeats(backgrounds, .backgrounds)
        checkNoRepeats(textKinds, .textKinds)
        check(minObjects >= 1, .minObjects, "\(minObjects) is less than 1")
        check(maxObjects >= minObjects && maxObjects <= 9, .maxObjects, "\(maxObjects) must lie between min_objects (\(minObjects)) and the 9 grid cells")
        check(maxObjects <= shapes.count * colors.count, .maxObjects,
              "\(maxObjects) objects cannot all differ in shape or color with \(shapes.count) shapes and \(colors.count) colors")
        check((0...1).contains(textProbability), .textProbability, "\(textProbability) is not a probability")
        check(textProbability == 0 || !textKinds.isEmpty, .textKinds, "is empty while text_probability is \(textProbability)")
        check((0...0.2).contains(positionJitter), .positionJitter, "\(positionJitter) must lie in 0...0.2 (more moves objects out of their cells)")
        check(pretrainingScenes >= 1, .pretrainingScenes, "\(pretrainingScenes) is less than 1")
        check(questionsPerScene >= 0, .questionsPerScene, "\(questionsPerScene) is negative")
        check(readingRowsPerScene >= 0, .readingRowsPerScene, "\(readingRowsPerScene) is negative")
        check(longFormRowsPerScene >= 0, .longFormRowsPerScene, "\(longFormRowsPerScene) is negative")
        check((0...1).contains(yesNoFraction), .yesNoFraction, "\(yesNoFraction) is not a fraction")
        check(skillWeights.values.allSatisfy { $0 >= 0 } && skillWeights.values.contains { $0 > 0 }, .skillWeights,
              "weights must be non-negative and at least one positive")
        check(finetuneSamples >= 2, .finetuneSamples, "\(finetuneSamples) is too few to split")
        check(finetuneTestFraction > 0 && finetuneTestFraction < 1, .finetuneTestFraction, "\(finetuneTestFraction) must lie strictly between 0 and 1")
        check(finetuneGroupWeights.values.allSatisfy { $0 >= 0 } && finetuneGroupWeights.values.contains { $0 > 0 }, .finetuneGroupWeights,
              "weights must be non-negative and at least one positive")
        check(benchmarkImagesPerSubtask >= 1, .benchmarkImagesPerSubtask, "\(benchmarkImagesPerSubtask) is less than 1")
        check(vocabularySize >= Tokenizer.firstMergeID, .vocabularySize,
              "\(vocabularySize) is less than the \(Tokenizer.firstMergeID) special and byte tokens")
        return problems
    }
}

/// A coding key for reading whichever keys a JSON object has.
struct AnyCodingKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// One line for a decoding error, naming the key path.
func describe(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
        context.codingPath.map(\.stringValue).joined(separator: ".")
    }
    switch error {
    case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
        let key = path(context)
        return key.isEmpty ? context.debugDescription : "\(key): \(context.debugDescription)"
    case .keyNotFound(let key, let context):
        return "missing key '\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))'"
    @unknown default:
        return "\(error)"
    }
}

/// An error of the data module, whose description is the message a user reads.
public struct DataError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
