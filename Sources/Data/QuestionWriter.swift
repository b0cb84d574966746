import Engine

/// A question and its short answer ("What color is the circle?", "red").
struct ShortQuestion {
    let text: String
    let answer: String
}

/// Writes questions about one scene, drawing subjects and phrasings from its own random stream.
///
/// Every question is computed from the scene, so its answer is right by construction; a question
/// the scene cannot carry (a relation with one object, reading with no text) comes back nil and the
/// caller asks something else or uses another scene.
struct QuestionWriter {
    let scene: Scene
    let recipe: DataRecipe
    var rng: SeededGenerator

    /// The sentence that turns a question into MME's yes/no form.
    static let yesNoSuffix = "Please answer yes or no."

    // MARK: - Yes/no questions

    /// A question about the scene whose true answer is `answer`, without the yes/no suffix.
    mutating func yesNo(_ skill: Skill, answer: Bool) -> String? {
        switch skill {
        case .existence: existence(answer)
        case .count: count(answer)
        case .position: position(answer)
        case .color: attribute(answer, avoiding: .color, truth: \.color, world: recipe.colors) { ref, color in
            ["Is the \(ref) \(color)?", "Is the \(ref) colored \(color)?", "Is the color of the \(ref) \(color)?"]
        }
        case .shape: attribute(answer, avoiding: .shape, truth: \.shape, world: recipe.shapes) { ref, shape in
            let a = withArticle(shape)
            return ["Is the \(ref) \(a)?", "Does the \(ref) have the shape of \(a)?", "Is the \(ref) shaped like \(a)?"]
        }
        case .size: attribute(answer, avoiding: nil, truth: \.size, world: recipe.sizes) { ref, size in
            ["Is the \(ref) \(size)?", "Is the \(ref) drawn \(size)?", "Does the \(ref) look \(size)?"]
        }
        case .fill: attribute(answer, avoiding: nil, truth: \.fill, world: recipe.fills) { ref, fill in
            ["Is the \(ref) \(fill)?", "Is the \(ref) drawn \(fill)?", "Does the \(ref) look \(fill)?"]
        }
        case .background: background(answer)
        case .location: location(answer)
        case .text: text(answer)
        case .comparison: comparison(answer)
        case .arithmetic: arithmetic(answer)
        case .translation: translation(answer)
        case .code: code(answer)
        }
    }

    private mutating func existence(_ answer: Bool) -> String? {
        // Sometimes the existence of text, asked only where the answer is the one wanted, so yes and no stay balanced.
        if (scene.text != nil) == answer && rng.chance(0.15) {
            return rng.pick(["Is there any text in the image?", "Is anything written in the image?"])
        }
        guard let query = answer ? presentQuery() : absentQuery() else { return nil }
        let a = withArticle(query.phrase)
        return rng.pick(["Is there \(a) in the image?", "Does the image contain \(a)?", "Can you see \(a) in the image?",
                         "Is there \(a) in this picture?", "Does this image show \(a)?"])
    }

    /// A description that fits at least one object of the scene.
    mutating func presentQuery() -> ObjectQuery? {
        guard !scene.objects.isEmpty else { return nil }
        let object = rng.pick(scene.objects)
        return query(describing: object, form: rng.below(5))
    }

    /// A description drawn from the world that fits no object of the scene.
    mutating func absentQuery() -> ObjectQuery? {
        for _ in 0..<24 {
            let invented = SceneObject(shape: rng.pick(recipe.shapes), color: rng.pick(recipe.colors), size: rng.pick(recipe.sizes),
                                       fill: rng.pick(recipe.fills), cell: Cell(0))
            let query = query(describing: invented, form: rng.below(5))
            if scene.objects(matching: query).isEmpty { return query }
        }
        return nil
    }

    /// Descriptions of an object at several levels of detail, so that existence tests each attribute.
    private func query(describing object: SceneObject, form: Int) -> ObjectQuery {
        switch form {
        case 0, 1: ObjectQuery(shape: object.shape, color: object.color)
        case 2: ObjectQuery(shape: object.shape)
        case 3: ObjectQuery(color: object.color)
        default: ObjectQuery(shape: object.shape, color: object.color, size: object.size)
        }
    }

    private mutating func count(_ answer: Bool) -> String? {
        // A yes needs something to count, so its target is drawn from the objects present.
        let (actual, singular, plural) = countTarget(present: answer)
        let asked: Int
        if answer {
            guard actual >= 1 else { return nil }
            asked = actual
        } else {
            asked = rng.pick([actual - 2, actual - 1, actual + 1, actual + 2].filter { $0 >= 1 })
        }
        let counted = countPhrase(asked, singular, plural)
        return rng.pick([asked == 1 ? "Is there exactly \(counted) in the image?" : "Are there exactly \(counted) in the image?",
                         "Does the image contain exactly \(counted)?",
                         "Is the number of \(plural) in the image \(numberWord(asked))?"])
    }

    /// What to count: all objects, one shape or one color (one the scene has, when `present`), with its count and nouns.
    mutating func countTarget(present: Bool) -> (count: Int, singular: String, plural: String) {
        let object = present && !scene.objects.isEmpty ? rng.pick(scene.objects) : nil
        switch rng.below(3) {
        case 0:
            return (scene.objects.count, "object", "objects")
        case 1:
            let shape = object?.shape ?? rng.pick(recipe.shapes)
            return (scene.objects(matching: ObjectQuery(shape: shape)).count, shape.rawValue, shape.plural)
        default:
            let color = object?.color ?? rng.pick(recipe.colors)
            return (scene.objects(matching: ObjectQuery(color: color)).count, "\(color.rawValue) object", "\(color.rawValue) objects")
        }
    }

    /// The relations `position` asks about, and whether each holds between two objects.
    private static let relations: [(phrase: String, holds: @Sendable (SceneObject, SceneObject) -> Bool)] = [
        ("to the left of", { $0.cell.column < $1.cell.column }), ("to the right of", { $0.cell.column > $1.cell.column }),
        ("above", { $0.cell.row < $1.cell.row }), ("below", { $0.cell.row > $1.cell.row }),
    ]

    private mutating func position(_ answer: Bool) -> String? {
        var candidates: [(SceneObject, SceneObject, String)] = []
        for a in scene.objects {
            for b in scene.objects where a != b {
                for relation in Self.relations where relation.holds(a, b) == answer { candidates.append((a, b, relation.phrase)) }
            }
        }
        guard !candidates.isEmpty else { return nil }
        let (a, b, relation) = rng.pick(candidates)
        let (refA, refB) = (reference(a, avoiding: .location), relatum(b))
        return rng.pick(["Is the \(refA) \(relation) the \(refB)?", "In the image, is the \(refA) \(relation) the \(refB)?",
                         "Is the \(refA) located \(relation) the \(refB)?"])
    }

    /// A question on one attribute of one object, asking its true value or another value of the world.
    private mutating func attribute<T: Equatable & CaseIterable & RawRepresentable<String>>(
        _ answer: Bool, avoiding: ReferenceAttribute?, truth: (SceneObject) -> T, world: [T],
        phrasings: (String, String) -> [String]
    ) -> String? where T.AllCases == [T] {
        guard !scene.objects.isEmpty else { return nil }
        let object = rng.pick(scene.objects)
        let value = answer ? truth(object) : rng.pick(alternatives(to: truth(object), in: world))
        return rng.pick(phrasings(reference(object, avoiding: avoiding), value.rawValue))
    }

    private mutating func background(_ answer: Bool) -> String? {
        let value = answer ? scene.background : rng.pick(alternatives(to: scene.background, in: recipe.backgrounds))
        return rng.pick(["Is the background \(value.rawValue)?", "Is the background of the image \(value.rawValue)?",
                         "Are the objects on \(withArticle(value.rawValue)) background?"])
    }

    private mutating func location(_ answer: Bool) -> String? {
        if rng.chance(0.3) {
            let cells = scene.objectCells.filter { (scene.object(at: $0) != nil) == answer }
            guard !cells.isEmpty else { return nil }
            let phrase = rng.pick(cells).phrase
            return rng.pick(["Is there an object \(phrase)?", "Is anything drawn \(phrase)?"])
        }
        guard !scene.objects.isEmpty else { return nil }
        let object = rng.pick(scene.objects)
        let cell = answer ? object.cell : rng.pick(Cell.all.filter { $0 != object.cell })
        let ref = reference(object, avoiding: .location)
        return rng.pick(["Is the \(ref) \(cell.phrase)?", "Is the \(ref) located \(cell.phrase)?", "Can the \(ref) be seen \(cell.phrase)?"])
    }

    private mutating func text(_ answer: Bool) -> String? {
        guard let text = scene.text else { return nil }
        var shown = text.string
        if !answer {
            guard let other = differentText(kind: text.kind) else { return nil }
            shown = other
        }
        return rng.pick(["Does the image say \"\(shown)\"?", "Is \"\(shown)\" written in the image?", "Is the text in the image \"\(shown)\"?"])
    }

    /// A text of the same kind as the scene's that differs from it.
    private mutating func differentText(kind: TextKind) -> String? {
        for _ in 0..<24 {
            let other = SceneText.random(kind, using: &rng).string
            if other != scene.text?.string { return other }
        }
        return nil
    }

    private mutating func comparison(_ answer: Bool) -> String? {
        var counts: [String] = []
        for s1 in recipe.shapes {
            for s2 in recipe.shapes where s1 != s2 {
                let (n1, n2) = (count(shape: s1), count(shape: s2))
                if n1 + n2 > 0 && (n1 > n2) == answer { counts.append("Are there more \(s1.plural) than \(s2.plural) in the image?") }
            }
        }
        for c1 in recipe.colors {
            for c2 in recipe.colors where c1 != c2 {
                let (n1, n2) = (count(color: c1), count(color: c2))
                if n1 + n2 > 0 && (n1 > n2) == answer { counts.append("Are there more \(c1) objects than \(c2) objects in the image?") }
            }
        }
        var sizes: [String] = []
        for a in scene.objects {
            for b in scene.objects where a != b {
                if (a.size.rank > b.size.rank) == answer { sizes.append("Is the \(a.name) larger than the \(b.name)?") }
                if (a.size.rank < b.size.rank) == answer { sizes.append("Is the \(a.name) smaller than the \(b.name)?") }
            }
        }
        // Size comparisons are as frequent as count comparisons whenever a scene has two objects.
        let pool = sizes.isEmpty || (!counts.isEmpty && rng.chance(0.5)) ? counts : sizes
        return pool.isEmpty ? nil : rng.pick(pool)
    }

    private mutating func arithmetic(_ answer: Bool) -> String? {
        guard let text = scene.text, text.kind == .arithmetic, let value = text.result else { return nil }
        let asked = answer ? value : wrongValue(near: value)
        return rng.pick(["Is the result of the expression in the image \(asked)?", "Does the expression shown in the image equal \(asked)?",
                         "Is the value of the expression written in the image \(asked)?"])
    }

    private mutating func translation(_ answer: Bool) -> String? {
        guard case .french(_, let meaning) = scene.text else { return nil }
        let asked = answer ? meaning : rng.pick(SceneText.frenchWords.map(\.1).filter { $0 != meaning })
        return rng.pick(["Does the French word in the image mean \"\(asked)\" in English?",
                         "Is \"\(asked)\" the English translation of the word in the image?",
                         "Does the word written in the image mean \"\(asked)\"?"])
    }

    private mutating func code(_ answer: Bool) -> String? {
        guard case .code(let variable, _, _, _) = scene.text, let value = scene.text?.result else { return nil }
        let asked = answer ? value : wrongValue(near: value)
        return rng.pick(["After the code in the image runs, is \(variable) equal to \(asked)?",
                         "Does the code in the image set \(variable) to \(asked)?",
                         "Is \(variable) equal to \(asked) after running the code shown in the image?"])
    }

    /// A near miss: off by one to three, never negative.
    private mutating func wrongValue(near value: Int) -> Int {
        rng.pick([-3, -2, -1, 1, 2, 3].map { value + $0 }.filter { $0 >= 0 })
    }

    // MARK: - Open questions with short answers

    /// A question whose answer is a word or two ("red", "top left", "3"); nil for existence, which is only asked yes/no.
    mutating func open(_ skill: Skill) -> ShortQuestion? {
        switch skill {
        case .existence: return nil
        case .count:
            let (actual, _, plural) = countTarget(present: rng.chance(0.7))
            return ShortQuestion(text: rng.pick(["How many \(plural) are there in the image?", "How many \(plural) can you see?",
                                                 "Count the \(plural) in the image."]), answer: String(actual))
        case .position:
            let pairs = scene.objects.flatMap { a in scene.objects.filter { $0 != a }.map { (a, $0) } }
            guard let (a, b) = pairs.isEmpty ? nil : rng.pick(pairs) else { return nil }
            let (refA, refB) = (reference(a, avoiding: .location), relatum(b))
            if a.cell.column != b.cell.column && (a.cell.row == b.cell.row || rng.chance(0.5)) {
                return ShortQuestion(text: "Is the \(refA) to the left or to the right of the \(refB)?",
                                     answer: a.cell.column < b.cell.column ? "left" : "right")
            }
            return ShortQuestion(text: "Is the \(refA) above or below the \(refB)?", answer: a.cell.row < b.cell.row ? "above" : "below")
        case .color:
            return openAttribute(avoiding: .color, truth: \.color) { ref in
                ["What color is the \(ref)?", "Which color does the \(ref) have?", "What is the color of the \(ref)?"]
            }
        case .shape:
            return openAttribute(avoiding: .shape, truth: \.shape) { ref in
                ["What shape is the \(ref)?", "Which shape is the \(ref)?", "What is the shape of the \(ref)?"]
            }
        case .size:
            return openAttribute(avoiding: nil, truth: \.size) { ref in ["What size is the \(ref)?", "How big is the \(ref)?"] }
        case .fill:
            return openAttribute(avoiding: nil, truth: \.fill) { ref in ["How is the \(ref) filled?", "How is the \(ref) drawn?"] }
        case .background:
            return ShortQuestion(text: rng.pick(["What color is the background?", "What is the background color of the image?"]),
                                 answer: scene.background.rawValue)
        case .location:
            if rng.chance(0.3) {
                let cell = rng.pick(scene.objectCells)
                return ShortQuestion(text: rng.pick(["What is \(cell.phrase)?", "What can you see \(cell.phrase)?"]),
                                     answer: scene.object(at: cell).map { withArticle($0.name) } ?? "nothing")
            }
            return openAttribute(avoiding: .location, truth: \.cell.name) { ref in
                ["Where is the \(ref)?", "In which part of the image is the \(ref)?", "Where in the image is the \(ref)?"]
            }
        case .text:
            guard let text = scene.text else { return nil }
            return ShortQuestion(text: rng.pick(["What does the text say?", "What is written in the image?", "Read the text in the image."]),
                                 answer: text.string)
        case .comparison:
            return openComparison()
        case .arithmetic:
            guard let text = scene.text, text.kind == .arithmetic, let value = text.result else { return nil }
            return ShortQuestion(text: rng.pick(["What is the result of the expression in the image?", "What does the expression in the image equal?",
                                                 "Compute the expression shown in the image."]), answer: String(value))
        case .translation:
            guard case .french(_, let meaning) = scene.text else { return nil }
            return ShortQuestion(text: rng.pick(["What does the French word in the image mean in English?",
                                                 "Translate the word in the image into English."]), answer: meaning)
        case .code:
            guard case .code(let variable, _, _, _) = scene.text, let value = scene.text?.result else { return nil }
            return ShortQuestion(text: rng.pick(["What is the value of \(variable) after the code in the image runs?",
                                                 "After running the code shown in the image, what is \(variable)?"]), answer: String(value))
        }
    }

    private mutating func openAttribute<T>(avoiding: ReferenceAttribute?, truth: (SceneObject) -> T,
                                           phrasings: (String) -> [String]) -> ShortQuestion? where T: CustomStringConvertible {
        guard !scene.objects.isEmpty else { return nil }
        let object = rng.pick(scene.objects)
        return ShortQuestion(text: rng.pick(phrasings(reference(object, avoiding: avoiding))), answer: truth(object).description)
    }

    private mutating func openComparison() -> ShortQuestion? {
        let pairs = scene.objects.flatMap { a in scene.objects.filter { $0.size != a.size }.map { (a, $0) } }
        if !pairs.isEmpty && rng.chance(0.5) {
            let (a, b) = rng.pick(pairs)
            let larger = rng.chance(0.5)
            let winner = (a.size.rank > b.size.rank) == larger ? a : b
            return ShortQuestion(text: "Which is \(larger ? "larger" : "smaller"), the \(a.name) or the \(b.name)?", answer: "the \(winner.name)")
        }
        let shapes = recipe.shapes.flatMap { s1 in recipe.shapes.filter { count(shape: $0) != count(shape: s1) }.map { (s1, $0) } }
        guard !shapes.isEmpty else { return nil }
        let (s1, s2) = rng.pick(shapes)
        return ShortQuestion(text: "Are there more \(s1.plural) or more \(s2.plural) in the image?",
                             answer: count(shape: s1) > count(shape: s2) ? s1.plural : s2.plural)
    }

    // MARK: - Referring to objects

    /// Which attribute a reference must not use, because the question asks about it.
    enum ReferenceAttribute { case shape, color, location }

    /// A noun phrase that picks out exactly one object ("red circle", "circle", "red object",
    /// "object at the top left"), never through the attribute the question asks about.
    mutating func reference(_ object: SceneObject, avoiding: ReferenceAttribute?) -> String {
        var options: [String] = []
        if avoiding != .shape && avoiding != .color { options += [object.name, object.name] }
        if avoiding != .shape && count(shape: object.shape) == 1 { options.append(object.shape.rawValue) }
        if avoiding != .color && count(color: object.color) == 1 { options.append("\(object.color.rawValue) object") }
        if avoiding != .location { options.append("object \(object.cell.phrase)") }
        return rng.pick(options)
    }

    /// The object a position question compares its subject with: "other object" in a scene of two
    /// when the recipe says so (`positionOtherObject`), so that the question names one object to
    /// find, as a colour question does; otherwise a reference.
    private mutating func relatum(_ object: SceneObject) -> String {
        recipe.positionOtherObject && scene.objects.count == 2 ? "other object" : reference(object, avoiding: .location)
    }

    func count(shape: Shape) -> Int { scene.objects(matching: ObjectQuery(shape: shape)).count }
    func count(color: Color) -> Int { scene.objects(matching: ObjectQuery(color: color)).count }

    /// Values of the world other than `value`: the recipe's, or every value when the recipe has no other.
    func alternatives<T: Equatable & CaseIterable>(to value: T, in world: [T]) -> [T] where T.AllCases == [T] {
        let others = world.filter { $0 != value }
        return others.isEmpty ? T.allCases.filter { $0 != value } : others
    }
}

/// "one circle", "two red objects".
func countPhrase(_ n: Int, _ singular: String, _ plural: String) -> String {
    "\(n == 0 ? "no" : numberWord(n)) \(n == 1 ? singular : plural)"
}

extension Shape: CustomStringConvertible { public var description: String { rawValue } }
extension Color: CustomStringConvertible { public var description: String { rawValue } }
extension Size: CustomStringConvertible { public var description: String { rawValue } }
extension Fill: CustomStringConvertible { public var description: String { rawValue } }
