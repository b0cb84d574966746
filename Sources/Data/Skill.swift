/// A kind of question about a scene. Each MME-style subtask tests one skill; the pretraining corpus
/// mixes them by the recipe's weights.
public enum Skill: String, CaseIterable, Codable, CodingKeyRepresentable, Hashable, Sendable {
    /// Whether an object of a description is present.
    case existence
    /// How many objects (of a shape or color) there are.
    case count
    /// Where one object is relative to another (left of, above).
    case position
    /// An object's color.
    case color
    /// An object's shape.
    case shape
    /// An object's size.
    case size
    /// How an object is filled (solid, outlined, ...).
    case fill
    /// The background's color.
    case background
    /// Which grid cell an object is in.
    case location
    /// Reading the scene's text (whether there is any is a matter of existence).
    case text
    /// Comparing counts or sizes.
    case comparison
    /// Evaluating the expression the scene shows.
    case arithmetic
    /// The English meaning of the French word the scene shows.
    case translation
    /// The value the scene's line of code assigns.
    case code

    /// The text a scene must show for this skill to apply; nil when objects suffice.
    var requiredText: Set<TextKind>? {
        switch self {
        case .arithmetic: [.arithmetic]
        case .translation: [.french]
        case .code: [.code]
        case .text: Set(TextKind.allCases)
        default: nil
        }
    }

    /// The skill that asks about a scene's text of this kind.
    static func reading(_ kind: TextKind) -> Skill {
        switch kind {
        case .arithmetic: .arithmetic
        case .french: .translation
        case .code: .code
        case .word, .number: .text
        }
    }
}

/// The three query groups of VL-RewardBench.
public enum QueryGroup: String, CaseIterable, Codable, CodingKeyRepresentable, Hashable, Sendable {
    /// Ordinary questions about the image.
    case general
    /// Questions that presuppose something the image does not show; the preferred response corrects the premise.
    case hallucination
    /// Counting, comparing and arithmetic on what is shown.
    case reasoning
}

/// The corpora, each drawing its scenes from its own range of seeds so that no scene is shared.
public enum Corpus: String, CaseIterable, Sendable {
    case pretraining, finetune, benchmark
    /// Rows of the pretraining corpus's kinds on scenes none of the others draws
    /// (`RetentionControlSet`); last, so that the other ranges keep their seeds.
    case retentionControl

    /// The seed of the scene for sample `index`, try `attempt` (a corpus retries when a scene cannot
    /// carry the question it needs): the corpus in the top 16 bits, the index in the next 40,
    /// the attempt in the low 8, so that ranges never meet.
    public func sceneSeed(_ index: Int, attempt: Int = 0) -> UInt64 {
        precondition(index >= 0 && index < 1 << 40 && attempt >= 0 && attempt < 256,
                     "scene index \(index) or attempt \(attempt) out of range")
        let corpus = UInt64(Corpus.allCases.firstIndex(of: self)! + 1)
        return corpus << 48 | UInt64(index) << 8 | UInt64(attempt)
    }
}
