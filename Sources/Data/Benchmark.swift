import Engine
import Foundation

/// The 14 subtasks of MME, by MME's names. Those with no meaning in the rendered world test a
/// world analogue instead (see `skill`): posters -> shape, celebrity -> size, scene -> background,
/// landmark -> location on the grid, artwork -> fill pattern, commonsense_reasoning -> comparison.
public enum BenchmarkSubtask: String, CaseIterable, Codable, Sendable {
    case existence, count, position, color, posters, celebrity, scene, landmark, artwork, OCR
    case commonsenseReasoning = "commonsense_reasoning"
    case numericalCalculation = "numerical_calculation"
    case textTranslation = "text_translation"
    case codeReasoning = "code_reasoning"

    /// Whether the subtask counts toward perception (10 subtasks, max 2000) or cognition (4, max 800).
    public var isPerception: Bool { BenchmarkSubtask.allCases.firstIndex(of: self)! < 10 }

    /// The skill this subtask tests in the rendered world.
    public var skill: Skill {
        switch self {
        case .existence: .existence
        case .count: .count
        case .position: .position
        case .color: .color
        case .posters: .shape  // recognising what a poster shows -> what shape an object is
        case .celebrity: .size  // recognising a person -> telling an object's size
        case .scene: .background  // recognising the setting -> naming the background
        case .landmark: .location  // recognising a place -> which grid cell an object is in
        case .artwork: .fill  // recognising a style -> how an object is painted
        case .OCR: .text
        case .commonsenseReasoning: .comparison  // everyday judgement -> comparing counts and sizes
        case .numericalCalculation: .arithmetic
        case .textTranslation: .translation  // Chinese to English -> French to English
        case .codeReasoning: .code
        }
    }

    /// The text kinds a scene for this subtask must show (reading subtasks); nil when objects suffice.
    var requiredText: [TextKind]? {
        switch skill {
        case .text: [.word, .number]
        case .arithmetic: [.arithmetic]
        case .translation: [.french]
        case .code: [.code]
        default: nil
        }
    }
}

/// One benchmark question, as a line of an MME task file holds it (the reply is the model's and
/// joins it in `Metrics.MMERecord`).
public struct BenchmarkQuestion: Hashable, Sendable {
    public let subtask: BenchmarkSubtask
    /// The image's file name; for a rendered scene, its key's name with ".png".
    public let imageName: String
    /// The question, ending "Please answer yes or no."
    public let question: String
    /// "Yes" or "No".
    public let answer: String

    public init(subtask: BenchmarkSubtask, imageName: String, question: String, answer: String) {
        self.subtask = subtask
        self.imageName = imageName
        self.question = question
        self.answer = answer
    }

    /// The scene the image name stands for, or nil for a real image.
    public var scene: SceneKey? { SceneKey(name: imageName) }
}

/// An MME-style benchmark: per subtask, images with exactly two questions each, one answered yes and one no.
public struct Benchmark: Sendable {
    public var questions: [BenchmarkQuestion]

    public init(questions: [BenchmarkQuestion]) { self.questions = questions }

    /// The benchmark the recipe names (scenes from the benchmark seed range).
    public init(recipe: DataRecipe) {
        let root = SeededGenerator(seed: recipe.seed).fork("benchmark")
        var questions: [BenchmarkQuestion] = []
        for (number, subtask) in BenchmarkSubtask.allCases.enumerated() {
            for image in 0..<recipe.benchmarkImagesPerSubtask {
                let index = number << 24 | image
                let rng = root.fork(index)
                questions += Self.pair(subtask, index: index, recipe: recipe, rng: rng)
            }
        }
        self.questions = questions
    }

    /// The yes and the no question on the first scene that can carry both.
    private static func pair(_ subtask: BenchmarkSubtask, index: Int, recipe: DataRecipe, rng: SeededGenerator) -> [BenchmarkQuestion] {
        var rng = rng
        for attempt in 0..<256 {
            let key = SceneKey(seed: Corpus.benchmark.sceneSeed(index, attempt: attempt), requiredText: subtask.requiredText.map { rng.pick($0) })
            var writer = QuestionWriter(scene: Scene(recipe: recipe, key: key), recipe: recipe, rng: rng.fork(attempt))
            if let yes = writer.yesNo(subtask.skill, answer: true), let no = writer.yesNo(subtask.skill, answer: false) {
                let name = key.name + ".png"
                return [BenchmarkQuestion(subtask: subtask, imageName: name, question: yes + " " + QuestionWriter.yesNoSuffix, answer: "Yes"),
                        BenchmarkQuestion(subtask: subtask, imageName: name, question: no + " " + QuestionWriter.yesNoSuffix, answer: "No")]
            }
        }
        preconditionFailure("no scene of this recipe can carry a yes and a no \(subtask.rawValue) question (tried 256)")
    }

    /// The questions of one subtask, in order.
    public func questions(in subtask: BenchmarkSubtask) -> [BenchmarkQuestion] { questions.filter { $0.subtask == subtask } }
}
