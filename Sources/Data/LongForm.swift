/// The kinds of pretraining rows whose answer is a sentence or more (the stand-in for the long-form
/// part of InstructBLIP's instruction mixture: detailed descriptions, explained answers).
///
/// Their wording is their own ("the picture", "sits", "shows no"), not the fine-tuning set's
/// ("the image", "There is no ... It shows ..."), so that fine-tuning still teaches a new format.
public enum LongFormKind: String, CaseIterable, Hashable, Sendable {
    /// Every object and the background, one sentence each.
    case account
    /// A question about the scene answered in a sentence that repeats what it asks.
    case explained
    /// A question about an object the scene does not have, answered by saying so and what it does have.
    case correction
}

extension QuestionWriter {
    /// The cue after a question that wants a sentence.
    static let sentenceCue = "Answer in a full sentence."
    /// The cue after a question that wants a word or two (InstructBLIP's short-answer templates end so).
    static let shortCue = "Answer with a single word or phrase."

    static let accountPrompts = ["Tell me about this picture in a few sentences.", "Give a full account of what the picture shows.",
                                 "Talk me through everything in this picture."]

    /// A long-form row of `kind` about the scene, with its short answer (the word or two a short
    /// question would get; empty for an account, which answers nothing in a word); nil when the
    /// scene cannot carry it (say, a correction in a scene that holds every object the world can draw).
    mutating func longForm(_ kind: LongFormKind) -> (skill: Skill?, query: String, response: String, short: String)? {
        switch kind {
        case .account:
            return (nil, rng.pick(Self.accountPrompts), account, "")
        case .explained:
            return explained()
        case .correction:
            guard let absent = absentQuery() else { return nil }
            let question = rng.pick(["Where is the \(absent.phrase)?", "How big is the \(absent.phrase)?",
                                     "What is next to the \(absent.phrase)?", "Is the \(absent.phrase) solid or outlined?"])
            return (.existence, question + " " + Self.sentenceCue,
                    "The picture shows no \(absent.phrase); it has \(scene.objectList).", "no")
        }
    }

    /// The scene in sentences: "The picture has a white background and two objects. At the top left
    /// sits a large solid red circle. In the center sits a small outlined blue square."
    var account: String {
        let count = scene.objects.count
        var sentences = ["The picture has \(withArticle(scene.background.rawValue)) background and \(countPhrase(count, "object", "objects"))."]
        sentences += scene.objects.map { "\($0.cell.phrase.capitalizedFirst) sits \(withArticle($0.fullName))." }
        if let text = scene.text { sentences.append("Written at the bottom is the \(text.noun) \"\(text.string)\".") }
        return sentences.joined(separator: " ")
    }

    /// A question of a perception skill, its answer in a sentence and in a word or two; nil when
    /// the scene cannot carry the drawn skill.
    private mutating func explained() -> (skill: Skill?, query: String, response: String, short: String)? {
        let skill = rng.pick([Skill.existence, .count, .position, .color, .shape, .size, .fill, .location, .background])
        let asked: (query: String, response: String, short: String)?
        switch skill {
        case .existence:
            let present = rng.chance(0.5)
            if present, let query = presentQuery() {
                let found = scene.objects(matching: query)[0]
                asked = ("Is there \(withArticle(query.phrase)) in the picture?",
                         "Yes, the picture has \(withArticle(query.phrase)); it sits \(found.cell.phrase).", "yes")
            } else if !present, let query = absentQuery() {
                asked = ("Is there \(withArticle(query.phrase)) in the picture?",
                         "No, the picture has no \(query.phrase); it has \(scene.objectList).", "no")
            } else {
                asked = nil
            }
        case .count:
            let (count, singular, plural) = countTarget(present: rng.chance(0.7))
            asked = ("How many \(plural) does the picture have?", "The picture has \(countPhrase(count, singular, plural)).", String(count))
        case .position:
            let pairs = scene.objects.flatMap { a in scene.objects.filter { $0 != a }.map { (a, $0) } }
            if pairs.isEmpty {
                asked = nil
            } else {
                let (a, b) = rng.pick(pairs)
                let (refA, refB) = (reference(a, avoiding: .location), reference(b, avoiding: .location))
                let horizontal = a.cell.column != b.cell.column && (a.cell.row == b.cell.row || rng.chance(0.5))
                let (relation, short) = horizontal ? (a.cell.column < b.cell.column ? ("to the left of", "left") : ("to the right of", "right"))
                    : (a.cell.row < b.cell.row ? ("above", "above") : ("below", "below"))
                asked = ("Where is the \(refA) compared with the \(refB)?", "The \(refA) lies \(relation) the \(refB).", short)
            }
        case .background:
            asked = ("What color is the background of the picture?", "The background of the picture is \(scene.background.rawValue).",
                     scene.background.rawValue)
        default:
            guard !scene.objects.isEmpty else { return nil }
            let object = rng.pick(scene.objects)
            switch skill {
            case .color:
                let ref = reference(object, avoiding: .color)
                asked = ("What color is the \(ref)?", "The \(ref) is drawn in \(object.color.rawValue).", object.color.rawValue)
            case .shape:
                let ref = reference(object, avoiding: .shape)
                asked = ("What shape is the \(ref)?", "The \(ref) has the shape of \(withArticle(object.shape.rawValue)).", object.shape.rawValue)
            case .size:
                let ref = reference(object, avoiding: nil)
                asked = ("How big is the \(ref)?", "The \(ref) is drawn \(object.size.rawValue).", object.size.rawValue)
            case .fill:
                let ref = reference(object, avoiding: nil)
                asked = ("How is the \(ref) filled?", "The \(ref) is drawn \(object.fill.rawValue).", object.fill.rawValue)
            default:
                let ref = reference(object, avoiding: .location)
                asked = ("Where is the \(ref)?", "The \(ref) sits \(object.cell.phrase) of the picture.", object.cell.name)
            }
        }
        return asked.map { (skill, $0.query + " " + Self.sentenceCue, $0.response, $0.short) }
    }
}
