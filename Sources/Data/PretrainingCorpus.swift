import Engine

/// One row of the pretraining corpus (the stand-in for InstructBLIP's instruction-tuning mixture).
public struct PretrainingSample: Hashable, Sendable {
    /// What a row teaches.
    public enum Form: String, CaseIterable, Sendable {
        /// Describe the image; the response is the scene's caption.
        case caption
        /// A question about the image with a short answer.
        case question
        /// The caption stands in front of the question as text, so that the language model learns
        /// to answer from a description; no image is needed.
        case reading
        /// A question or instruction whose answer is a sentence or more (`LongFormKind`).
        case longForm
    }

    /// The scene the row is about (for a reading row, the scene its caption describes).
    public let scene: SceneKey
    public let form: Form
    /// The skill a question tests; nil for captions and accounts.
    public let skill: Skill?
    /// What a long-form row asks for; nil for the other forms.
    public let longForm: LongFormKind?
    public let query: String
    public let response: String
    /// A long-form row's answer in a word or two ("red", "no"; empty for an account); nil for the other forms.
    public let shortAnswer: String?

    public init(scene: SceneKey, form: Form, skill: Skill?, longForm: LongFormKind? = nil, query: String, response: String,
                shortAnswer: String? = nil) {
        (self.scene, self.form, self.skill, self.longForm, self.query, self.response, self.shortAnswer)
            = (scene, form, skill, longForm, query, response, shortAnswer)
    }
}

/// The pretraining corpus: for each scene a caption row, visual questions, reading rows and
/// long-form rows. Every short question ends in a cue that asks for the short form, as
/// InstructBLIP's templates do, so that a question that asks for a sentence can be told apart.
public struct PretrainingCorpus: Sendable {
    public let samples: [PretrainingSample]

    static let captionPrompts = ["Describe the image.", "What does this image show?", "Write a short description of the image.",
                                 "What can you see in this picture?", "Caption this image."]

    /// The corpus the recipe names (scenes from the pretraining seed range); the same rows on
    /// `scenes` scenes of another corpus's range when given one (`RetentionControlSet`).
    public init(recipe: DataRecipe, scenes: Int? = nil, of corpus: Corpus = .pretraining) {
        let root = SeededGenerator(seed: recipe.seed).fork(corpus.rawValue)
        let sceneCount = scenes ?? recipe.pretrainingScenes
        var samples: [PretrainingSample] = []
        samples.reserveCapacity(sceneCount * (1 + recipe.questionsPerScene + recipe.readingRowsPerScene + recipe.longFormRowsPerScene))
        for index in 0..<sceneCount {
            let key = SceneKey(seed: corpus.sceneSeed(index))
            let scene = Scene(recipe: recipe, key: key)
            var writer = QuestionWriter(scene: scene, recipe: recipe, rng: root.fork(index))
            samples.append(PretrainingSample(scene: key, form: .caption, skill: nil,
                                             query: writer.rng.pick(Self.captionPrompts), response: scene.caption))
            for (form, rows) in [(PretrainingSample.Form.question, recipe.questionsPerScene), (.reading, recipe.readingRowsPerScene)] {
                for row in 0..<rows {
                    // The first question of each form on a scene with text is about the text, so that
                    // reading, arithmetic, translation and code get enough rows.
                    let skill = (row == 0 ? scene.text.map { Skill.reading($0.kind) } : nil) ?? writer.drawSkill()
                    let question = writer.shortQuestion(skill)
                    samples.append(PretrainingSample(scene: key, form: form, skill: question.skill,
                                                     query: form == .reading ? scene.caption + "\n" + question.text : question.text,
                                                     response: question.answer))
                }
            }
            // The kinds in turn from a random start; a kind the scene cannot carry gives way to the next.
            let kinds = LongFormKind.allCases, start = recipe.longFormRowsPerScene > 0 ? writer.rng.below(kinds.count) : 0
            for row in 0..<recipe.longFormRowsPerScene {
                for offset in 0..<kinds.count {
                    let kind = kinds[(start + row + offset) % kinds.count]
                    if let written = writer.longForm(kind) {
                        samples.append(PretrainingSample(scene: key, form: .longForm, skill: written.skill, longForm: kind,
                                                         query: written.query, response: written.response, shortAnswer: written.short))
                        break
                    }
                }
            }
        }
        self.samples = samples
    }
}

extension QuestionWriter {
    /// A skill drawn by the recipe's weights among those the scene can carry.
    mutating func drawSkill() -> Skill {
        let applicable = Skill.allCases.filter { skill in
            skill.requiredText.map { kinds in scene.text.map { kinds.contains($0.kind) } ?? false } ?? true
        }
        let weights = applicable.map { recipe.skillWeights[$0] ?? 0 }
        let total = weights.reduce(0, +)
        guard total > 0 else { return .existence }
        var remaining = rng.below(total)
        for (skill, weight) in zip(applicable, weights) {
            if remaining < weight { return skill }
            remaining -= weight
        }
        preconditionFailure("weighted draw fell off the end")
    }

    /// A question with a short answer and its cue, yes/no by the recipe's share or open; falls back to
    /// another skill when the scene cannot carry this one (say, a relation with a single object).
    mutating func shortQuestion(_ preferred: Skill) -> (skill: Skill, text: String, answer: String) {
        var skill = preferred
        while true {
            if rng.chance(recipe.yesNoFraction) || skill == .existence {
                let answer = rng.chance(0.5)
                for truth in [answer, !answer] {
                    if let text = yesNo(skill, answer: truth) {
                        return (skill, text + " " + Self.yesNoSuffix, truth ? "yes" : "no")
                    }
                }
            } else if let question = open(skill) {
                return (skill, question.text + " " + Self.shortCue, question.answer)
            }
            skill = skill == .existence ? drawSkill() : .existence
        }
    }
}
