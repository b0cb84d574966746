import Engine

/// The kinds of generated VL-RewardBench samples, by query group.
enum RewardKind: CaseIterable {
    // general
    case describe, whereIs, colorOf, shapeOf, sizeOf, fillOf, background, whatIsAt, readText, translate, isThere, isThereNot
    // hallucination
    case absentShape, absentObject, wrongSize, wrongFill, wrongLocation, absentText, emptyCell
    // reasoning
    case countAll, countShape, countColor, compareCounts, compareSizes, evaluate, runCode, compareNumber, addCounts

    static func kinds(of group: QueryGroup) -> [RewardKind] {
        switch group {
        case .general: [.describe, .whereIs, .colorOf, .shapeOf, .sizeOf, .fillOf, .background, .whatIsAt, .readText, .translate, .isThere, .isThereNot]
        case .hallucination: [.absentShape, .absentObject, .wrongSize, .wrongFill, .wrongLocation, .absentText, .emptyCell]
        case .reasoning: [.countAll, .countShape, .countColor, .compareCounts, .compareSizes, .evaluate, .runCode, .compareNumber, .addCounts]
        }
    }

    /// The text kinds a scene may be made to show for this kind of sample.
    var requiredText: [TextKind]? {
        switch self {
        case .readText: [.word, .number]
        case .translate: [.french]
        case .evaluate: [.arithmetic]
        case .runCode: [.code]
        case .compareNumber: [.number]
        default: nil
        }
    }
}

extension FinetuneSet {
    /// The recipe's generated samples, before the split: groups in the recipe's proportions, in seeded order.
    static func generate(recipe: DataRecipe) -> [RewardSample] {
        let root = SeededGenerator(seed: recipe.seed).fork("finetune")
        var groupRNG = root.fork("groups")
        var groups = apportion(recipe.finetuneSamples, weights: recipe.finetuneGroupWeights)
        for i in stride(from: groups.count - 1, to: 0, by: -1) { groups.swapAt(i, groupRNG.below(i + 1)) }
        return groups.enumerated().map { index, group in
            var rng = root.fork(index)
            var kind = rng.pick(RewardKind.kinds(of: group))
            for attempt in 0..<256 {
                // A kind this world rarely allows (say, a missing shape when scenes hold every shape) gives way to another.
                if attempt > 0 && attempt % 16 == 0 { kind = rng.pick(RewardKind.kinds(of: group)) }
                let key = SceneKey(seed: Corpus.finetune.sceneSeed(index, attempt: attempt), requiredText: kind.requiredText.map { rng.pick($0) })
                var writer = QuestionWriter(scene: Scene(recipe: recipe, key: key), recipe: recipe, rng: rng.fork(attempt))
                if let (query, response, premise) = writer.rewardSample(kind) {
                    return RewardSample(id: "finetune-\(index)", image: .scene(key), query: query, response: response,
                                        querySource: group.rawValue, group: group, falsePremise: premise)
                }
            }
            preconditionFailure("no scene of this recipe can carry a \(group) sample (tried 256); check the recipe's world")
        }
    }

    /// `total` items split by weight, largest remainders first (ties to the earlier group).
    private static func apportion(_ total: Int, weights: [QueryGroup: Int]) -> [QueryGroup] {
        let sum = QueryGroup.allCases.map { weights[$0] ?? 0 }.reduce(0, +)
        let exact = QueryGroup.allCases.map { Double(total * (weights[$0] ?? 0)) / Double(sum) }
        var counts = exact.map { Int($0) }
        let byRemainder = exact.indices.sorted { exact[$0] - Double(counts[$0]) > exact[$1] - Double(counts[$1]) }
        for i in byRemainder.prefix(total - counts.reduce(0, +)) { counts[i] += 1 }
        return zip(QueryGroup.allCases, counts).flatMap { Array(repeating: $0, count: $1) }
    }
}

extension QuestionWriter {
    /// A query and its preferred response in full sentences (ROUGE and BLEU are computed on them),
    /// with the false premise for hallucination kinds; nil when the scene cannot carry the kind.
    mutating func rewardSample(_ kind: RewardKind) -> (query: String, response: String, premise: Premise?)? {
        let objects = scene.objects
        let any = objects.isEmpty ? nil : rng.pick(objects)
        switch kind {
        case .describe:
            return (rng.pick(PretrainingCorpus.captionPrompts + ["Describe this image in detail."]), scene.caption, nil)
        case .whereIs:
            guard let o = any else { return nil }
            let ref = reference(o, avoiding: .location)
            return (rng.pick(["Where is the \(ref)?", "Where in the image is the \(ref)?", "Can you tell me where the \(ref) is?"]),
                    rng.pick(["The \(o.name) is \(o.cell.phrase) of the image.", "The \(o.name) is located \(o.cell.phrase) of the image."]), nil)
        case .colorOf:
            guard let o = any else { return nil }
            let ref = reference(o, avoiding: .color)
            return (rng.pick(["What color is the \(ref)?", "Which color does the \(ref) have?"]), "The \(ref) is \(o.color).", nil)
        case .shapeOf:
            guard let o = any else { return nil }
            let ref = reference(o, avoiding: .shape)
            return (rng.pick(["What shape is the \(ref)?", "What kind of shape is the \(ref)?"]),
                    "The \(ref) is \(withArticle(o.shape.rawValue)).", nil)
        case .sizeOf:
            guard let o = any else { return nil }
            let ref = reference(o, avoiding: nil)
            return (rng.pick(["How big is the \(ref)?", "What size is the \(ref)?"]), "The \(ref) is \(o.size).", nil)
        case .fillOf:
            guard let o = any else { return nil }
            let ref = reference(o, avoiding: nil)
            return (rng.pick(["How is the \(ref) drawn?", "Is the \(ref) filled in?"]), "The \(ref) is \(o.fill).", nil)
        case .background:
            return (rng.pick(["What color is the background?", "What is behind the objects?"]),
                    rng.pick(["The background is \(scene.background.rawValue).", "The objects are on \(withArticle(scene.background.rawValue)) background."]), nil)
        case .whatIsAt:
            guard let o = any else { return nil }
            return (rng.pick(["What is \(o.cell.phrase) of the image?", "What can you see \(o.cell.phrase) of the image?"]),
                    "There is \(withArticle(o.fullName)) \(o.cell.phrase) of the image.", nil)
        case .readText:
            guard let text = scene.text else { return nil }
            return (rng.pick(["What does the text say?", "What is written in the image?", "Can you read the text in the image?"]),
                    rng.pick(["The text says \"\(text.string)\".", "The image shows the \(text.noun) \"\(text.string)\" at the bottom."]), nil)
        case .translate:
            guard case .french(let word, let meaning) = scene.text else { return nil }
            return (rng.pick(["What does the French word in the image mean?", "Translate the word in the image into English."]),
                    "The French word \"\(word)\" means \"\(meaning)\" in English.", nil)
        case .isThere:
            guard let query = presentQuery() else { return nil }
            let found = scene.objects(matching: query)
            let response = found.count == 1
                ? "Yes, there is \(withArticle(found[0].fullName)) \(found[0].cell.phrase) of the image."
                : "Yes, there are \(numberWord(found.count)) of them: \(listed(found.map { "\(withArticle($0.fullName)) \($0.cell.phrase)" }))."
            return ("Is there \(withArticle(query.phrase)) in the image?", response, nil)
        case .isThereNot:
            guard let query = absentQuery() else { return nil }
            return ("Is there \(withArticle(query.phrase)) in the image?",
                    "No, there is no \(query.phrase) in the image. It shows \(scene.objectList).", nil)

        case .absentShape:
            let missing = recipe.shapes.filter { count(shape: $0) == 0 }
            guard !missing.isEmpty else { return nil }
            let shape = rng.pick(missing)
            return (rng.pick(["What color is the \(shape)?", "Where is the \(shape) in the image?", "How big is the \(shape)?",
                              "Describe the \(shape) in the image."]),
                    "There is no \(shape) in the image. It shows \(scene.objectList).", .object(ObjectQuery(shape: shape)))
        case .absentObject:
            // A missing pairing of a color and a shape that are each present is the premise most easily believed.
            var pairs: [(Color, Shape)] = []
            for color in recipe.colors {
                for shape in recipe.shapes where scene.objects(matching: ObjectQuery(shape: shape, color: color)).isEmpty
                    && (count(color: color) > 0 || count(shape: shape) > 0) {
                    pairs.append((color, shape))
                }
            }
            guard !pairs.isEmpty else { return nil }
            let (color, shape) = rng.pick(pairs)
            let sameColor = scene.objects(matching: ObjectQuery(color: color))
            let sameShape = scene.objects(matching: ObjectQuery(shape: shape))
            let correction = sameColor.count == 1 ? "The \(color) object is \(withArticle(sameColor[0].shape.rawValue))."
                : sameShape.count == 1 ? "The \(shape) is \(sameShape[0].color)." : "It shows \(scene.objectList)."
            return (rng.pick(["Where is the \(color) \(shape)?", "What size is the \(color) \(shape)?",
                              "Is the \(color) \(shape) solid or outlined?", "What is next to the \(color) \(shape)?"]),
                    "There is no \(color) \(shape) in the image. \(correction)", .object(ObjectQuery(shape: shape, color: color)))
        case .wrongSize:
            guard let o = any else { return nil }
            let wrong = rng.pick(alternatives(to: o.size, in: recipe.sizes))
            return (rng.pick(["Why is the \(o.name) so \(wrong)?", "What makes the \(o.name) look \(wrong)?"]),
                    "The \(o.name) is not \(wrong); it is \(o.size).", .object(ObjectQuery(shape: o.shape, color: o.color, size: wrong)))
        case .wrongFill:
            guard let o = any else { return nil }
            let wrong = rng.pick(alternatives(to: o.fill, in: recipe.fills))
            return (rng.pick(["Why is the \(o.name) \(wrong)?", "What does the \(wrong) \(o.name) mean?"]),
                    "The \(o.name) is not \(wrong); it is \(o.fill).", .object(ObjectQuery(shape: o.shape, color: o.color, fill: wrong)))
        case .wrongLocation:
            guard let o = any else { return nil }
            let wrong = rng.pick(Cell.all.filter { $0 != o.cell })
            return (rng.pick(["Why is the \(o.name) \(wrong.phrase) of the image?", "What is beside the \(o.name) \(wrong.phrase)?"]),
                    "The \(o.name) is not \(wrong.phrase); it is \(o.cell.phrase) of the image.",
                    .object(ObjectQuery(shape: o.shape, color: o.color, cell: wrong)))
        case .absentText:
            guard scene.text == nil else { return nil }
            return (rng.pick(["What does the text in the image say?", "Read the words written in the image.", "What number is written in the image?"]),
                    "There is no text in the image; it only shows \(scene.objectList).", .text)
        case .emptyCell:
            // Cells of the text's row are not empty, though they hold no object.
            let empty = scene.objectCells.filter { scene.object(at: $0) == nil }
            guard !empty.isEmpty else { return nil }
            let cell = rng.pick(empty)
            return (rng.pick(["What color is the object \(cell.phrase)?", "What shape is the object \(cell.phrase) of the image?",
                              "Describe the object \(cell.phrase)."]),
                    "There is no object \(cell.phrase); that part of the image is empty.", .object(ObjectQuery(cell: cell)))

        case .countAll:
            return (rng.pick(["How many objects are in the image?", "How many objects can you count?", "Count the objects in the image."]),
                    there(countPhrase(objects.count, "object", "objects")) + " in the image.", nil)
        case .countShape:
            let shape = rng.chance(0.7) && !objects.isEmpty ? rng.pick(objects).shape : rng.pick(recipe.shapes)
            return (rng.pick(["How many \(shape.plural) are there?", "How many \(shape.plural) are in the image?"]),
                    there(countPhrase(count(shape: shape), shape.rawValue, shape.plural)) + " in the image.", nil)
        case .countColor:
            let color = rng.chance(0.7) && !objects.isEmpty ? rng.pick(objects).color : rng.pick(recipe.colors)
            return ("How many \(color) objects are there?",
                    there(countPhrase(count(color: color), "\(color) object", "\(color) objects")) + " in the image.", nil)
        case .compareCounts:
            let (s1, s2) = shapePair()
            let (n1, n2) = (count(shape: s1), count(shape: s2))
            guard n1 + n2 > 0 else { return nil }
            let counts = there(countPhrase(n1, s1.rawValue, s1.plural)) + " and " + countPhrase(n2, s2.rawValue, s2.plural)
            let verdict = n1 > n2 ? "Yes. \(counts), so there are more \(s1.plural)."
                : n1 < n2 ? "No. \(counts), so there are fewer \(s1.plural)." : "No. \(counts), the same number."
            return ("Are there more \(s1.plural) than \(s2.plural) in the image?", verdict, nil)
        case .compareSizes:
            guard objects.count >= 2 else { return nil }
            let a = rng.pick(objects), b = rng.pick(objects.filter { $0 != a })
            let larger = rng.chance(0.5)
            let query = "Which is \(larger ? "larger" : "smaller"), the \(a.name) or the \(b.name)?"
            guard a.size != b.size else { return (query, "The \(a.name) and the \(b.name) are the same size.", nil) }
            let (winner, loser) = (a.size.rank > b.size.rank) == larger ? (a, b) : (b, a)
            return (query, "The \(winner.name) is \(larger ? "larger" : "smaller") than the \(loser.name).", nil)
        case .evaluate:
            guard case .arithmetic(let a, let op, let b) = scene.text, let value = scene.text?.result else { return nil }
            return (rng.pick(["What is the result of the expression in the image?", "Solve the expression shown in the image.",
                              "What does the expression in the image equal?"]),
                    rng.pick(["The image shows \(a)\(op.rawValue)\(b), which equals \(value).",
                              "The expression is \(a) \(op.word) \(b), so the result is \(value)."]), nil)
        case .runCode:
            guard case .code(let variable, let a, let op, let b) = scene.text, let value = scene.text?.result else { return nil }
            return (rng.pick(["What is the value of \(variable) after the code in the image runs?", "What does the code in the image set \(variable) to?"]),
                    "The code sets \(variable) to \(a) \(op.rawValue) \(b), so \(variable) is \(value).", nil)
        case .compareNumber:
            guard case .number(let n) = scene.text else { return nil }
            let threshold = rng.pick(stride(from: 10, through: 90, by: 10).filter { $0 != n })
            return ("Is the number in the image greater than \(threshold)?",
                    n > threshold ? "Yes. The number \(n) is greater than \(threshold)." : "No. The number \(n) is less than \(threshold).", nil)
        case .addCounts:
            let (s1, s2) = shapePair()
            let (n1, n2) = (count(shape: s1), count(shape: s2))
            return ("How many \(s1.plural) and \(s2.plural) are there together?",
                    there(countPhrase(n1, s1.rawValue, s1.plural)) + " and \(countPhrase(n2, s2.rawValue, s2.plural)), so \(n1 + n2 == 0 ? "none" : numberWord(n1 + n2)) in total.", nil)
        }
    }

    /// Two different shapes of the world, the first one present in the scene when possible.
    private mutating func shapePair() -> (Shape, Shape) {
        let first = scene.objects.isEmpty ? rng.pick(recipe.shapes) : rng.pick(scene.objects).shape
        return (first, rng.pick(alternatives(to: first, in: recipe.shapes)))
    }
}

/// "There is one circle" / "There are two circles" / "There are no circles".
private func there(_ counted: String) -> String {
    (counted.hasPrefix("one ") ? "There is " : "There are ") + counted
}

extension Operation {
    /// The operator read aloud.
    var word: String {
        switch self {
        case .plus: "plus"
        case .minus: "minus"
        case .times: "times"
        }
    }
}
