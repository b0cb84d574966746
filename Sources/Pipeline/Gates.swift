import Study
import Data
import Engine
import Model

/// Measures each pretraining stage's own figures of merit after it trains, stored with its run, so
/// that the recipe can be tuned by editing study files alone (`GateFigures` reads them back).
enum Gates {
    /// The vision stage: accuracy per attribute on held-out scenes, over occupied cells (counted
    /// over every cell, shape was 0.89 while the ViT named the shapes of objects at chance; the
    /// per-patch shape and fill over the patches of occupied cells), and
    /// `occupancy`: the cells the shape head rightly calls empty or occupied, over every cell.
    static func vision(_ objective: VisionObjective) -> [Measured] {
        var correct = [Int](repeating: 0, count: VisionObjective.heads.count)
        var counted = correct
        var occupancy = (correct: 0, counted: 0)
        Autodiff.withoutGradients {
            for start in stride(from: 0, to: objective.heldOut.count, by: 32) {
                let keys = Array(objective.heldOut[start..<min(start + 32, objective.heldOut.count)])
                let (logits, targets) = objective.logitsAndTargets(keys, .evaluation())
                let occupied = targets[0].map { $0 != 0 }
                for (head, (tensor, target)) in zip(logits, targets).enumerated() {
                    let classes = tensor.shape[1]
                    for (row, truth) in target.enumerated() {
                        let name = VisionObjective.heads[head].name
                        let scores = UnsafeBufferPointer(start: tensor.data + row * classes, count: classes)
                        let predicted = scores.indices.max { scores[$0] < scores[$1] }!
                        if name == "shape" {
                            occupancy.correct += (predicted != 0) == occupied[row] ? 1 : 0
                            occupancy.counted += 1
                        }
                        if ["shape", "color", "size", "fill"].contains(name) && !occupied[row] { continue }
                        // Patches of empty cells (class 0) would inflate the patch heads as they did shape.
                        // Likewise cells with no relation to count (empty, or not one of two objects).
                        let skipsClassZero = ["text", "patch_shape", "patch_fill", "column_relation", "row_relation"]
                        if skipsClassZero.contains(name) && truth == 0 { continue }
                        correct[head] += predicted == Int(truth) ? 1 : 0
                        counted[head] += 1
                    }
                }
            }
        }
        let names: [String] = GateFigures.visionHeads + ["occupancy"]
        correct.append(occupancy.correct)
        counted.append(occupancy.counted)
        return names.indices.map { index in
            Measured(condition: MetricName.image, name: MetricName.gate("vision.\(names[index])"),
                     value: Double(correct[index]) / Double(max(counted[index], 1)))
        }
    }

    /// The language stage: the share of held-out questions answered exactly, per skill and overall,
    /// by the language model reading the scene's code in place of the image, the code written as the
    /// study trains it (with the answer's group when `train.code_answer`): the ceiling of what
    /// alignment can teach, since a Q-Former that wrote the code perfectly would score this. (Read
    /// without the answer, a model trained with it scores about 0.14: it reads the answer, not the
    /// cells.) `open` and `yes_no` split the questions by the kind of answer: reading a word out of
    /// the code and checking a claim against it are learned at very different speeds (see docs/findings.md, language stage).
    static func language(_ objective: LanguageObjective, rows: [PretrainingSample], tokenizer: Tokenizer) throws -> [Measured] {
        var tally = AnswerTally()
        for start in stride(from: 0, to: rows.count, by: 16) {
            let batch = Array(rows[start..<min(start + 16, rows.count)])
            let prefix = objective.prefix(batch.map(\.example))  // [b, Q, D]
            let requests = batch.enumerated().map { index, row in
                GenerationRequest(prefix: reshape(slice(prefix, axis: 0, index..<(index + 1)), Array(prefix.shape.dropFirst())),
                                  promptIds: objective.encoder.prompt(row.query))
            }
            let outputs = try objective.model.generate(requests, options: GenerationOptions(maxNewTokens: 16, vocabularyLimit: tokenizer.vocabularySize))
            for (row, output) in zip(batch, outputs) {
                tally.add(skill: row.skill?.rawValue ?? "caption", expected: row.response, reply: tokenizer.decode(output.map(Int.init)))
            }
        }
        return tally.measured(stage: "language")
    }

    /// Alignment: how often the Q-Former's answer position (`PromptEncoder.answerPosition`) lies
    /// nearest the right answer's code, per skill, with the image and with a blank one. Yes/no
    /// questions choose between "yes" and "no"; open ones among the skill's held-out answers. This
    /// measures the Q-Former's question answering apart from the language model; the blank image
    /// shows what the question alone gives away. `answer_kind`: the share whose answer position lies
    /// nearest, among every answer of every skill, to one of the question's own kind (a yes or a no
    /// for a yes/no question, a size for "What size is..."): a Q-Former that reads the instruction
    /// at all gets this right with a blank image too; one that answers from the image alone does not.
    /// `text_code`: the share of the scene text's tokens whose positions lie nearest their own token
    /// among every token of the rows' texts (what the language model is given to read for OCR).
    /// `lm_answers`: the share the frozen language model answers exactly when it reads the Q-Former's
    /// output in place of the scene's code: what the two stages give together, before instruction
    /// tuning; `lm_<skill>` the same per skill (on MME's questions, two seeds' Q-Formers answered
    /// existence 0.94 and 0.79 themselves, their language models 0.89 and 0.61; see docs/findings.md, align).
    static func align(_ objective: VisionLanguageObjective, rows: [PretrainingSample]) throws -> [Measured] {
        let model = objective.model, encoder = objective.encoder, recipe = objective.data.recipe
        let yesNo = Self.yesNoAnswers
        var openAnswers: [Skill: [String]] = [:]
        for row in rows where !yesNo.contains(row.response) { if let skill = row.skill { openAnswers[skill, default: []].append(row.response) } }
        openAnswers = openAnswers.mapValues { Array(Set($0)).sorted() }
        let everyAnswer = Array(Set(yesNo + openAnswers.values.joined())).sorted()
        let objects = recipe.shapes.flatMap { shape in recipe.colors.flatMap { color in recipe.sizes.flatMap { size in
            recipe.fills.map { SceneObject(shape: shape, color: color, size: size, fill: $0, cell: Cell(0)) } } } }
        // Every candidate's code, as the scene code writes it: its words' embeddings averaged.
        let cellCandidates = Cell.all.map { cell in objects.map { SceneCode.group(cell, $0) } }
        let texts = Array(Set(yesNo + openAnswers.values.joined() + cellCandidates.joined())).sorted()
        let table = matmul(encoder.averagingWeights(texts.map { encoder.encode(" " + $0) }, vocabulary: model.config.textConfig.vocabSize),
                           model.wordEmbeddings)  // [texts, D]
        let width = table.shape[1]
        let tableRow = Dictionary(uniqueKeysWithValues: texts.enumerated().map { ($1, $0) })
        // Ranks candidate codes as the cosine does (the position's own norm is the same for all of them).
        func nearestIndex(_ position: UnsafeBufferPointer<Float>, among codes: [UnsafePointer<Float>]) -> Int {
            let scores = codes.map { code in
                var dot: Float = 0, norm: Float = 0
                for d in 0..<width { dot += position[d] * code[d]; norm += code[d] * code[d] }
                return dot / max(norm.squareRoot(), 1e-12)
            }
            return scores.indices.max { scores[$0] < scores[$1] }!
        }
        func nearest(_ position: UnsafeBufferPointer<Float>, among candidates: [String]) -> String {
            candidates[nearestIndex(position, among: candidates.map { UnsafePointer(table.data + tableRow[$0]! * width) })]
        }
        let embeddings = model.wordEmbeddings  // [V, D]
        let textTokens = Array(Set(rows.compactMap { $0.example.scene(recipe).text?.string }
            .flatMap { encoder.textSlots($0, asked: objective.codeAsked).map(\.token) })).sorted()
        let textCodes = textTokens.map { UnsafePointer(embeddings.data + Int($0) * width) }
        var measured: [Measured] = []
        for condition in [MetricName.image, MetricName.blind] {
            var right: [String: Int] = [:], read: [String: Int] = [:], total: [String: Int] = [:]
            var cellsRight = 0, cellsTotal = 0, kindsRight = 0, textRight = 0, textTotal = 0
            for start in stride(from: 0, to: rows.count, by: 32) {
                let batch = Array(rows[start..<min(start + 32, rows.count)])
                let inputs = try encoder.batch(batch.map(\.example), data: objective.data, blank: condition == MetricName.blind)
                let features = model.imageFeatures(pixelValues: inputs.pixelValues, qformerInputIds: inputs.qformerInputIds,
                                                   qformerAttentionMask: inputs.qformerAttentionMask, .evaluation())  // [B, Q, D]
                let q = features.shape[1]
                // The language model's replies count only where the code carries an answer, as the Q-Former's do.
                let requests = !objective.codeAnswer ? [] : batch.enumerated().map { index, row in
                    GenerationRequest(prefix: reshape(slice(features, axis: 0, index..<(index + 1)), Array(features.shape.dropFirst())),
                                      promptIds: encoder.prompt(row.query))
                }
                let replies = try model.generate(requests, options: GenerationOptions(maxNewTokens: 16, vocabularyLimit: objective.data.tokenizer.vocabularySize))
                func position(_ index: Int, _ slot: Int) -> UnsafeBufferPointer<Float> {
                    UnsafeBufferPointer(start: features.data + (index * q + slot) * width, count: width)
                }
                for (index, row) in batch.enumerated() {
                    // A profile with fewer positions than parts shares them (`sceneCodeWeights`); then this only shows the gate runs.
                    let scene = row.example.scene(recipe)
                    for cell in Cell.all where cell.index < q {
                        guard let object = scene.object(at: cell) else { continue }
                        let named = nearest(position(index, cell.index), among: cellCandidates[cell.index])
                        cellsRight += named == SceneCode.group(cell, object) ? 1 : 0
                        cellsTotal += 1
                    }
                    for slot in scene.text.map({ encoder.textSlots($0.string, asked: objective.codeAsked) }) ?? [] {
                        textRight += textTokens[nearestIndex(position(index, slot.position), among: textCodes)] == slot.token ? 1 : 0
                        textTotal += 1
                    }
                    guard let skill = row.skill, objective.codeAnswer else { continue }
                    let candidates = yesNo.contains(row.response) ? yesNo : openAnswers[skill] ?? [row.response]
                    let answerCode = position(index, encoder.answerPosition)
                    let answer = nearest(answerCode, among: candidates)
                    right[skill.rawValue, default: 0] += answer == row.response ? 1 : 0
                    total[skill.rawValue, default: 0] += 1
                    let readAnswer = normalizedAnswer(objective.data.tokenizer.decode(replies[index].map(Int.init))) == normalizedAnswer(row.response)
                    read[skill.rawValue, default: 0] += readAnswer ? 1 : 0
                    kindsRight += candidates.contains(nearest(answerCode, among: everyAnswer)) ? 1 : 0
                }
            }
            for skill in total.keys.sorted() {
                let asked = Double(total[skill]!)
                measured.append(Measured(condition: condition, name: MetricName.gate("align.\(skill)"), value: Double(right[skill]!) / asked))
                measured.append(Measured(condition: condition, name: MetricName.gate("align.lm_\(skill)"), value: Double(read[skill]!) / asked))
            }
            measured.append(Measured(condition: condition, name: MetricName.gate("align.objects"), value: Double(cellsRight) / Double(max(cellsTotal, 1))))
            if textTotal > 0 {
                measured.append(Measured(condition: condition, name: MetricName.gate("align.text_code"), value: Double(textRight) / Double(textTotal)))
            }
            if condition == MetricName.image {
                var scenes: [SceneKey] = []
                for row in rows where scenes.count < 60 && !scenes.contains(row.scene) { scenes.append(row.scene) }
                measured.append(Measured(condition: condition, name: MetricName.gate("align.localisation"), value: localisation(objective, scenes: scenes)))
            }
            guard objective.codeAnswer else { continue }
            let asked = Double(max(total.values.reduce(0, +), 1))
            measured.append(Measured(condition: condition, name: MetricName.gate("align.overall"), value: Double(right.values.reduce(0, +)) / asked))
            measured.append(Measured(condition: condition, name: MetricName.gate("align.answer_kind"), value: Double(kindsRight) / asked))
            measured.append(Measured(condition: condition, name: MetricName.gate("align.lm_answers"), value: Double(read.values.reduce(0, +)) / asked))
        }
        return measured
    }

    /// Each object of `scenes` removed in turn (the scene drawn again without it): the share of
    /// removals after which the query of the object's own cell moves most, relative to its norm,
    /// among the cell queries. Queries that do not each read their own cell cannot write the scene's
    /// code; before the per-patch heads of the vision stage, 16 of 150 removals moved their own query most.
    static func localisation(_ objective: VisionLanguageObjective, scenes: [SceneKey]) -> Double {
        let model = objective.model, recipe = objective.data.recipe, size = recipe.imageSize
        let instruction = objective.encoder.qformerIds("Describe the image.")
        var right = 0, total = 0
        for key in scenes {
            let scene = Scene(recipe: recipe, key: key)
            let variants = [scene] + scene.objects.map { removed in
                Scene(key: key, background: scene.background, objects: scene.objects.filter { $0.cell != removed.cell }, text: scene.text)
            }
            let pixels = concat(variants.map { reshape(ImageProcessor.pixelValues($0.rendered(size: size)), [1, 3, size, size]) }, axis: 0)
            let features = model.imageFeatures(pixelValues: pixels, qformerInputIds: variants.flatMap { _ in instruction },
                                               qformerAttentionMask: [Int32](repeating: 1, count: variants.count * instruction.count),
                                               .evaluation())  // [variants, Q, D]
            let (q, d) = (features.shape[1], features.shape[2])
            let cells = min(Cell.all.count, q)
            // ||f(variant, slot) - f(scene, slot)|| / ||f(scene, slot)||
            func change(_ variant: Int, _ slot: Int) -> Float {
                let a = features.data + slot * d, b = features.data + (variant * q + slot) * d
                var difference: Float = 0, norm: Float = 0
                for j in 0..<d { difference += (b[j] - a[j]) * (b[j] - a[j]); norm += a[j] * a[j] }
                return (difference / max(norm, 1e-12)).squareRoot()
            }
            for (index, object) in scene.objects.enumerated() where object.cell.index < cells {
                let changes = (0..<cells).map { change(index + 1, $0) }
                right += changes.indices.max { changes[$0] < changes[$1] } == object.cell.index ? 1 : 0
                total += 1
            }
        }
        return Double(right) / Double(max(total, 1))
    }

    /// The CLIP scorer: retrieval recall@1 both ways within held-out batches of 50 pairs (chance 2%).
    static func clip(_ objective: ClipObjective) throws -> [Measured] {
        var imageToText = 0, textToImage = 0, pairs = 0
        try Autodiff.withoutGradients {
            for start in stride(from: 0, to: objective.heldOut.count - 1, by: 50) {
                let examples = Array(objective.heldOut[start..<min(start + 50, objective.heldOut.count)])
                let (images, texts) = try objective.embeddings(examples, .evaluation())
                let similarity = matmul(images, texts, transposeB: true)  // [n, n]
                let n = examples.count
                for i in 0..<n {
                    let row = (0..<n).map { similarity.data[i * n + $0] }
                    let column = (0..<n).map { similarity.data[$0 * n + i] }
                    imageToText += row.indices.max { row[$0] < row[$1] } == i ? 1 : 0
                    textToImage += column.indices.max { column[$0] < column[$1] } == i ? 1 : 0
                }
                pairs += n
            }
        }
        return [
            Measured(condition: MetricName.image, name: MetricName.gate("clip.image_to_text_recall1"), value: Double(imageToText) / Double(max(pairs, 1))),
            Measured(condition: MetricName.image, name: MetricName.gate("clip.text_to_image_recall1"), value: Double(textToImage) / Double(max(pairs, 1))),
        ]
    }

    /// Lowercase words without punctuation: "Yes." and "yes" are the same answer.
    static func normalizedAnswer(_ text: String) -> String {
        text.lowercased().split { !$0.isLetter && !$0.isNumber }.joined(separator: " ")
    }

    /// The answers of a yes/no question, as the corpus writes them.
    static let yesNoAnswers = ["yes", "no"]
}

/// Exact answers counted per skill, per kind of answer (`open`: a word or phrase read out of the
/// scene; `yes_no`: a claim checked against it) and overall.
struct AnswerTally {
    /// Right and asked, by skill and by kind: each answer counts once under each.
    private var counts: [String: (right: Int, asked: Int)] = [:]
    private static let kinds = ["open", "yes_no"]

    mutating func add(skill: String, expected: String, reply: String) {
        let kind = Gates.yesNoAnswers.contains(expected) ? "yes_no" : "open"
        let correct = Gates.normalizedAnswer(reply) == Gates.normalizedAnswer(expected) ? 1 : 0
        for name in [skill, kind] { counts[name, default: (0, 0)].right += correct; counts[name, default: (0, 0)].asked += 1 }
    }

    /// The shares as gate figures of `stage`: each skill's, each kind's and `overall` (the kinds together).
    func measured(stage: String) -> [Measured] {
        let overall = Self.kinds.compactMap { counts[$0] }.reduce((right: 0, asked: 0)) { ($0.right + $1.right, $0.asked + $1.asked) }
        return (counts.sorted { $0.key < $1.key } + [("overall", overall)]).map { name, count in
            Measured(condition: MetricName.image, name: MetricName.gate("\(stage).\(name)"),
                     value: Double(count.right) / Double(max(count.asked, 1)))
        }
    }
}
