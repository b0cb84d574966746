@testable import Data
import Engine
import Testing

/// The objects of `scene` a phrase describes, read back from its words ("large red circle",
/// "object at the top left", "red object"): an independent parse, not the writer's own query.
private func objects(describedBy phrase: String, in scene: Scene) -> [SceneObject] {
    let words = Set(phrase.split(separator: " ").map(String.init))
    let cell = Cell.all.first { phrase.hasSuffix($0.phrase) }
    return scene.objects.filter { object in
        Shape.allCases.allSatisfy { !words.contains($0.rawValue) || object.shape == $0 }
            && Color.allCases.allSatisfy { !words.contains($0.rawValue) || object.color == $0 }
            && Size.allCases.allSatisfy { !words.contains($0.rawValue) || object.size == $0 }
            && Fill.allCases.allSatisfy { !words.contains($0.rawValue) || object.fill == $0 }
            && (cell == nil || object.cell == cell)
    }
}

/// The text between `start` and `end` in `text`, if both are there.
private func between(_ text: String, _ start: String, _ end: String) -> String? {
    guard let from = text.range(of: start), let to = text.range(of: end, range: from.upperBound..<text.endIndex) else { return nil }
    return String(text[from.upperBound..<to.lowerBound])
}

@Suite struct LongFormTests {
    private static let recipe: DataRecipe = {
        var recipe = smallRecipe()
        recipe.longFormRowsPerScene = 2
        return recipe
    }()
    private static let samples = PretrainingCorpus(recipe: recipe).samples

    @Test func everySceneHasItsLongFormRowsOfEveryKind() {
        let rows = Self.samples.filter { $0.form == .longForm }
        #expect(rows.count == Self.recipe.pretrainingScenes * 2)
        #expect(Set(rows.compactMap(\.longForm)) == Set(LongFormKind.allCases))
        #expect(rows.allSatisfy { $0.response.hasSuffix(".") && $0.response.split(separator: " ").count >= 5 }, "answers are sentences")
        #expect(Self.samples.allSatisfy { ($0.form == .longForm) == ($0.longForm != nil) })
        var none = Self.recipe
        none.longFormRowsPerScene = 0
        #expect(!PretrainingCorpus(recipe: none).samples.contains { $0.form == .longForm })
    }

    @Test func shortQuestionsCarryTheirFormatCueAndLongOnesAskForASentence() {
        for sample in Self.samples where sample.form == .question {
            let cue = sample.response == "yes" || sample.response == "no" ? QuestionWriter.yesNoSuffix : QuestionWriter.shortCue
            #expect(sample.query.hasSuffix(" " + cue), "\(sample.query) -> \(sample.response)")
        }
        for sample in Self.samples where sample.form == .longForm {
            if sample.longForm == .account {
                #expect(QuestionWriter.accountPrompts.contains(sample.query))
            } else {
                #expect(sample.query.hasSuffix("? " + QuestionWriter.sentenceCue), "\(sample.query)")
            }
        }
    }

    /// An account names every object with all its attributes and where it sits, the background, the count and the text.
    @Test func accountsDescribeTheirScene() {
        var checked = 0
        for sample in Self.samples where sample.longForm == .account {
            let scene = Scene(recipe: Self.recipe, key: sample.scene)
            #expect(sample.response.hasPrefix("The picture has \(withArticle(scene.background.rawValue)) background and \(numberWord(scene.objects.count)) object"))
            for object in scene.objects {
                #expect(sample.response.contains("\(object.cell.phrase.capitalizedFirst) sits \(withArticle(object.fullName))."), "\(sample.response)")
            }
            #expect(sample.response.contains("Written at the bottom") == (scene.text != nil))
            if let text = scene.text { #expect(sample.response.contains("\"\(text.string)\"")) }
            #expect(sample.shortAnswer == "")
            checked += 1
        }
        #expect(checked > 20)
    }

    /// A correction's question names something the scene lacks; the answer says so and lists what it has.
    @Test func correctionsNameWhatIsAbsent() {
        var checked = 0
        for sample in Self.samples where sample.longForm == .correction {
            let scene = Scene(recipe: Self.recipe, key: sample.scene)
            guard let absent = between(sample.response, "The picture shows no ", ";") else {
                Issue.record("not a correction: \(sample.response)")
                continue
            }
            #expect(objects(describedBy: absent, in: scene).isEmpty, "\(absent) is in the scene")
            #expect(sample.query.contains("the \(absent)"), "\(sample.query)")
            for object in scene.objects { #expect(sample.response.contains(object.name), "\(sample.response)") }
            #expect(sample.shortAnswer == "no")
            checked += 1
        }
        #expect(checked > 20)
    }

    /// Explained answers read back against the scene, by kind of question.
    @Test func explainedAnswersMatchTheScene() {
        var checked: [Skill: Int] = [:]
        for sample in Self.samples where sample.longForm == .explained {
            let scene = Scene(recipe: Self.recipe, key: sample.scene)
            let (query, response) = (sample.query, sample.response)
            switch sample.skill {
            case .existence:
                guard let phrase = between(query, "Is there ", " in the picture?") else { continue }
                let described = String(phrase.split(separator: " ", maxSplits: 1)[1])
                #expect(response.hasPrefix("Yes") == !objects(describedBy: described, in: scene).isEmpty, "\(query) -> \(response)")
            case .count:
                guard let noun = between(query, "How many ", " does the picture have?") else { continue }
                let counted = noun == "objects" ? scene.objects.count : objects(describedBy: noun.replacingOccurrences(of: "objects", with: "")
                    .replacingOccurrences(of: "crosses", with: "cross").replacingOccurrences(of: "s", with: "", options: [.anchored, .backwards]),
                    in: scene).count
                #expect(firstNumber(in: response) == counted, "\(query) -> \(response)")
            case .color:
                guard let ref = between(query, "What color is the ", "?"), let color = between(response, "drawn in ", ".") else { continue }
                let referred = objects(describedBy: ref, in: scene)
                #expect(referred.count == 1 && referred[0].color.rawValue == color, "\(query) -> \(response)")
            case .location:
                guard let ref = between(query, "Where is the ", "?"), !ref.contains("compared") else { continue }
                let referred = objects(describedBy: ref, in: scene)
                #expect(referred.count == 1 && response.hasSuffix(" sits \(referred[0].cell.phrase) of the picture."), "\(query) -> \(response)")
            case .background:
                #expect(response.hasSuffix(" is \(scene.background.rawValue)."), "\(response)")
            default:
                continue
            }
            // The short answer is the word or two the sentence gives.
            let short = try! #require(sample.shortAnswer)
            #expect(!short.isEmpty && (response.contains(short) || (short == "yes" || short == "no") && response.lowercased().hasPrefix(short)
                                       || firstNumber(in: response) == Int(short)), "\(response) -> \(short)")
            checked[sample.skill!, default: 0] += 1
        }
        for skill in [Skill.existence, .count, .color, .location, .background] { #expect(checked[skill, default: 0] >= 3, "\(skill): \(checked)") }
    }

    /// Fine-tuning must still teach something new: none of its answers is a long-form answer, and
    /// the long-form rows speak of "the picture" where fine-tuning says "the image".
    @Test func longFormWordingIsNotTheFineTuningSets() {
        let recipe = DataRecipe()
        var withLongForm = recipe
        withLongForm.longFormRowsPerScene = 1
        withLongForm.pretrainingScenes = 400
        let longForm = PretrainingCorpus(recipe: withLongForm).samples.filter { $0.form == .longForm }
        let finetune = FinetuneSet(recipe: recipe).all.map(\.response)
        #expect(Set(longForm.map(\.response)).isDisjoint(with: finetune))
        #expect(longForm.allSatisfy { !$0.response.contains("image") })
        #expect(finetune.allSatisfy { !$0.contains("picture") })
    }
}
