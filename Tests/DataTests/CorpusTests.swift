@testable import Data
import Engine
import Foundation
import Testing

/// The first number in a text, written in digits or as a word ("three" counts as 3, "no" as 0).
func firstNumber(in text: String) -> Int? {
    let words = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    for token in text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }) {
        if let n = Int(token) { return n }
        if let n = words.firstIndex(of: String(token)) { return n }
    }
    return nil
}

@Suite struct CorpusTests {
    @Test func corporaAreDeterministic() {
        let recipe = smallRecipe()
        #expect(PretrainingCorpus(recipe: recipe).samples == PretrainingCorpus(recipe: recipe).samples)
        let (a, b) = (FinetuneSet(recipe: recipe), FinetuneSet(recipe: recipe))
        #expect(a.train == b.train && a.test == b.test)
        #expect(Benchmark(recipe: recipe).questions == Benchmark(recipe: recipe).questions)
        var reseeded = recipe
        reseeded.seed = 9
        #expect(PretrainingCorpus(recipe: reseeded).samples != PretrainingCorpus(recipe: recipe).samples)
    }

    @Test func corporaNeverShareAScene() {
        let recipe = DataRecipe()
        let pretraining = Set(PretrainingCorpus(recipe: smallRecipe()).samples.map(\.scene.seed))
        let finetune = FinetuneSet(recipe: recipe).all.map { sample -> UInt64 in
            guard case .scene(let key) = sample.image else { Issue.record("a generated sample names a file"); return 0 }
            return key.seed
        }
        let benchmark = Benchmark(recipe: recipe).questions.compactMap(\.scene?.seed)
        #expect(benchmark.count == Benchmark(recipe: recipe).questions.count, "every benchmark image names a scene")
        #expect(Set(finetune).count == finetune.count, "each fine-tuning sample has its own scene")
        #expect(pretraining.isDisjoint(with: finetune))
        #expect(pretraining.isDisjoint(with: benchmark))
        #expect(Set(finetune).isDisjoint(with: benchmark))
        // By construction too: the ranges differ in the corpus bits.
        #expect(Corpus.pretraining.sceneSeed(5) != Corpus.finetune.sceneSeed(5))
        #expect(Corpus.finetune.sceneSeed((1 << 40) - 1, attempt: 255) < Corpus.benchmark.sceneSeed(0))
    }

    @Test func pretrainingHasEveryFormAndSkill() {
        var recipe = smallRecipe()
        recipe.readingRowsPerScene = 2
        recipe.longFormRowsPerScene = 1
        let samples = PretrainingCorpus(recipe: recipe).samples
        #expect(samples.count == recipe.pretrainingScenes * (1 + recipe.questionsPerScene + recipe.readingRowsPerScene + recipe.longFormRowsPerScene))
        for form in PretrainingSample.Form.allCases { #expect(samples.contains { $0.form == form }) }
        for skill in Skill.allCases { #expect(samples.contains { $0.skill == skill }, "no \(skill) rows") }
        let existence = samples.filter { $0.skill == .existence }.count
        let color = samples.filter { $0.skill == .color }.count
        #expect(existence > color, "existence weighs more than color by default")
        for sample in samples where sample.form == .reading {
            let caption = Scene(recipe: recipe, key: sample.scene).caption
            #expect(sample.query.hasPrefix(caption + "\n"), "a reading row starts with its scene's caption")
        }
        for sample in samples where sample.form == .caption {
            #expect(sample.response == Scene(recipe: recipe, key: sample.scene).caption)
        }
    }

    /// Answers are computed from the scene: check them against it independently, by parsing.
    @Test func pretrainingAnswersMatchTheScene() {
        let recipe = smallRecipe()
        var checked = 0
        for sample in PretrainingCorpus(recipe: recipe).samples where sample.form == .question {
            let scene = Scene(recipe: recipe, key: sample.scene)
            if sample.query.hasPrefix("How many objects") || sample.query.hasPrefix("Count the objects") {
                #expect(Int(sample.response) == scene.objects.count, "\(sample.query) -> \(sample.response)")
                checked += 1
            }
            if sample.query.hasPrefix("What color is the background?") {
                #expect(sample.response == scene.background.rawValue)
                checked += 1
            }
            if sample.query.hasPrefix("What is the result of the expression"), case .arithmetic = scene.text {
                #expect(Int(sample.response) == scene.text?.result)
                checked += 1
            }
            for shape in Shape.allCases where sample.query.hasPrefix("How many \(shape.plural)") {
                #expect(Int(sample.response) == scene.objects.filter { $0.shape == shape }.count)
                checked += 1
            }
        }
        #expect(checked > 10)
    }

    @Test func positionQuestionsOfTwoObjectsNameTheOtherOnlyAsTheOtherObject() {
        // The circle lies left of and above the square.
        let scene = Scene(key: SceneKey(seed: 0), background: .white, objects: [
            SceneObject(shape: .circle, color: .red, size: .large, fill: .solid, cell: Cell(0)),
            SceneObject(shape: .square, color: .blue, size: .small, fill: .outlined, cell: Cell(4)),
        ], text: nil)
        for otherObject in [false, true] {
            var recipe = DataRecipe()
            recipe.positionOtherObject = otherObject
            var writer = QuestionWriter(scene: scene, recipe: recipe, rng: SeededGenerator(seed: 1))
            for answer in [true, false, true, false, true, false, true, false, true, false, true, false] {
                let question = writer.yesNo(.position, answer: answer)!
                let namesCircle = question.contains("circle") || question.contains("red")
                let namesSquare = question.contains("square") || question.contains("blue")
                #expect(question.hasSuffix("the other object?") == otherObject, "\(question)")
                #expect(otherObject ? namesCircle != namesSquare : namesCircle && namesSquare, "\(question)")
                guard otherObject else { continue }
                let circleRelation = ["to the left of", "above"].contains { question.contains($0) }
                // The claim holds when the circle is asked left or above, or the square right or below.
                #expect((circleRelation == namesCircle) == answer, "\(question) -> \(answer)")
            }
        }
    }

    @Test func finetuneSetIsShapedLikeVLRewardBench() {
        let set = FinetuneSet(recipe: DataRecipe())
        #expect(set.train.count == 1000 && set.test.count == 250)
        #expect(Set(set.all.map(\.id)).count == 1250)
        let counts = Dictionary(grouping: set.all, by: \.group).mapValues(\.count)
        #expect(counts == [.general: 183, .hallucination: 749, .reasoning: 318])
        for sample in set.all {
            let words = sample.response.split(separator: " ")
            #expect(words.count >= 4 && sample.response.last == ".", "responses are sentences: '\(sample.response)'")
            #expect(sample.querySource == sample.group.rawValue)
            #expect((sample.falsePremise != nil) == (sample.group == .hallucination))
        }
        #expect(FinetuneSet(recipe: DataRecipe()).test == set.test, "the split is seeded")
    }

    @Test func splitIsSeededAndComplete() {
        let samples = (0..<1247).map { RewardSample(id: "\($0)", image: .scene(SceneKey(seed: UInt64($0))), query: "q", response: "r",
                                                     querySource: "povid", group: .hallucination) }
        let split = FinetuneSet(splitting: samples, testFraction: 0.2, seed: 3)
        #expect(split.test.count == 249 && split.train.count == 998)
        #expect(Set(split.all.map(\.id)) == Set(samples.map(\.id)))
        #expect(FinetuneSet(splitting: samples, testFraction: 0.2, seed: 4).test != split.test)
        #expect(split.test.map { Int($0.id)! } == split.test.map { Int($0.id)! }.sorted(), "each part keeps the samples' order")
    }

    /// The positive control's rows: the pretraining corpus's captions and questions, as many as the
    /// fine-tuning set's, on scenes that no stage of the base model, no experiment and no benchmark draws.
    @Test func retentionControlRowsArePretrainingRowsOnScenesOfTheirOwn() {
        let recipe = DataRecipe()
        let control = RetentionControlSet(recipe: recipe, forms: [.caption, .question])
        let rows = control.train + control.test
        #expect(control.train.count == 1000 && control.test.count == 250, "split as the fine-tuning set")
        let scenes = rows.map(\.scene.seed)
        #expect(Set(scenes).count == rows.count, "one row per scene: no scene on both sides of the split")
        // Every scene of the pretraining corpus, the held-out ones too: the stages' gates read those.
        let pretraining = Set(PretrainingCorpus(recipe: recipe).samples.map(\.scene.seed))
        #expect(pretraining.count == recipe.pretrainingScenes)
        #expect(pretraining.isDisjoint(with: scenes), "the base model saw none of them")
        let finetune = FinetuneSet(recipe: recipe).all.compactMap { sample -> UInt64? in
            if case .scene(let key) = sample.image { key.seed } else { nil }
        }
        #expect(Set(finetune).isDisjoint(with: scenes))
        #expect(Set(Benchmark(recipe: recipe).questions.compactMap(\.scene?.seed)).isDisjoint(with: scenes))
        #expect(Corpus.benchmark.sceneSeed((1 << 40) - 1, attempt: 255) < Corpus.retentionControl.sceneSeed(0), "a range of its own")

        // The forms asked for, in the corpus's proportion: a caption for every questions_per_scene questions.
        let captions = rows.filter { $0.form == .caption }
        #expect(Set(rows.map(\.form)) == [.caption, .question])
        #expect(abs(captions.count * (1 + recipe.questionsPerScene) - rows.count) <= recipe.questionsPerScene)
        for row in captions { #expect(row.response == Scene(recipe: recipe, key: row.scene).caption) }
        #expect(rows.filter { $0.form == .question }.allSatisfy { $0.skill != nil && !$0.response.isEmpty })
        let questions = RetentionControlSet(recipe: recipe, forms: [.question])
        #expect((questions.train + questions.test).allSatisfy { $0.form == .question } && questions.test.count == 250)
        #expect(RetentionControlSet(recipe: recipe, forms: [.caption, .question]).test == control.test, "seeded")
    }

    @Test func hallucinationQueriesPresupposeWhatIsAbsent() {
        let recipe = DataRecipe()
        let hallucinations = FinetuneSet(recipe: recipe).all.filter { $0.group == .hallucination }
        #expect(hallucinations.count == 749)
        for sample in hallucinations {
            guard case .scene(let key) = sample.image, let premise = sample.falsePremise else {
                Issue.record("\(sample.id) has no scene or no premise")
                continue
            }
            let scene = Scene(recipe: recipe, key: key)
            switch premise {
            case .text:
                #expect(scene.text == nil, "\(sample.id): '\(sample.query)' presupposes text the scene has")
            case .object(let query):
                #expect(scene.objects(matching: query).isEmpty, "\(sample.id): '\(sample.query)' presupposes a \(query.phrase), which is there")
                // The query names the absent thing, and the response says it is not there.
                for word in [query.shape?.rawValue, query.color?.rawValue, query.size?.rawValue, query.fill?.rawValue].compactMap({ $0 }) {
                    #expect(sample.query.contains(word), "\(sample.id): '\(sample.query)' does not mention \(word)")
                }
                #expect(sample.response.contains(" no ") || sample.response.contains(" not "), "\(sample.id): '\(sample.response)'")
            }
        }
        #expect(hallucinations.contains { $0.falsePremise == .text })
        #expect(hallucinations.contains { if case .object(let query) = $0.falsePremise { query.cell != nil } else { false } })
    }

    @Test func reasoningAnswersMatchTheScene() {
        let recipe = DataRecipe()
        var checked = 0
        for sample in FinetuneSet(recipe: recipe).all where sample.group == .reasoning {
            guard case .scene(let key) = sample.image else { continue }
            let scene = Scene(recipe: recipe, key: key)
            if sample.query.contains("How many objects") || sample.query.contains("Count the objects") {
                #expect(firstNumber(in: sample.response) == scene.objects.count, "\(sample.query) -> \(sample.response)")
                checked += 1
            }
            if let value = scene.text?.result, sample.query.contains("expression") || sample.query.contains("code") {
                #expect(sample.response.hasSuffix(" \(value)."), "\(scene.text!.string): \(sample.response)")
                checked += 1
            }
        }
        #expect(checked > 30)
    }

    @Test func benchmarkHasOneYesAndOneNoPerImage() {
        let recipe = smallRecipe()
        let benchmark = Benchmark(recipe: recipe)
        #expect(BenchmarkSubtask.allCases.count == 14 && BenchmarkSubtask.allCases.filter(\.isPerception).count == 10)
        for subtask in BenchmarkSubtask.allCases {
            let questions = benchmark.questions(in: subtask)
            let byImage = Dictionary(grouping: questions, by: \.imageName)
            #expect(byImage.count == recipe.benchmarkImagesPerSubtask, "\(subtask)")
            for (image, pair) in byImage {
                #expect(pair.count == 2, "\(image) has \(pair.count) questions")
                #expect(Set(pair.map(\.answer)) == ["Yes", "No"], "\(image): \(pair.map(\.answer))")
                #expect(pair.allSatisfy { $0.question.hasSuffix("? Please answer yes or no.") })
            }
        }
        let allImages = benchmark.questions.map(\.imageName)
        #expect(Set(allImages).count * 2 == allImages.count, "no image serves two subtasks")
    }

    /// Existence, count and background answers checked against the scene by parsing the question.
    @Test func benchmarkAnswersMatchTheScene() {
        var recipe = DataRecipe()
        recipe.benchmarkImagesPerSubtask = 30
        var checked = 0
        for question in Benchmark(recipe: recipe).questions {
            let scene = Scene(recipe: recipe, key: question.scene!)
            let yes = question.answer == "Yes"
            switch question.subtask {
            case .scene:
                let named = Background.allCases.filter { question.question.contains(" \($0.rawValue)") }
                #expect(named.count == 1 && (named[0] == scene.background) == yes, "\(question.question)")
                checked += 1
            case .count:
                let shape = Shape.allCases.first { question.question.contains(" \($0.rawValue)") }
                let color = Color.allCases.first { question.question.contains(" \($0.rawValue)") }
                let actual = scene.objects(matching: ObjectQuery(shape: shape, color: color)).count
                #expect((firstNumber(in: question.question) == actual) == yes, "\(question.question) \(question.answer)")
                checked += 1
            case .existence:
                let shapes = Shape.allCases.filter { question.question.contains(" \($0.rawValue)") }
                let colors = Color.allCases.filter { question.question.contains(" \($0.rawValue)") }
                let sizes = Size.allCases.filter { question.question.contains(" \($0.rawValue) ") }
                if question.question.contains("written") || question.question.contains("text") {
                    #expect((scene.text != nil) == yes)
                } else {
                    let query = ObjectQuery(shape: shapes.first, color: colors.first, size: sizes.first)
                    #expect(!scene.objects(matching: query).isEmpty == yes, "\(question.question) \(question.answer)")
                }
                checked += 1
            case .numericalCalculation:
                #expect((firstNumber(in: question.question) == scene.text?.result) == yes, "\(question.question)")
                checked += 1
            default:
                break
            }
        }
        #expect(checked > 100)
    }
}
