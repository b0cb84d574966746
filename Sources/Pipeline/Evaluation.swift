import Data
import Engine
import Foundation
import Study
import Metrics
import Model

/// A number a run produced, before it has a run id.
struct Measured {
    let condition: String
    let name: String
    let value: Double
}

/// Evaluates a vision-language model the way the paper did (test loss, ROUGE, BLEU, CLIP score on
/// the 250 test samples; the MME-style benchmark), each with the blind control beside it.
struct Evaluator {
    let data: DataBundle
    let encoder: PromptEncoder
    let spec: EvalSpec
    let outputs: URL
    /// The CLIP scorer and how it reads text, when the study has one.
    let clip: ClipModel?
    /// Generation batch size.
    var batch = 32
    /// Told each phase of `evaluate` and the seconds it took (`repro bench eval` prints them).
    var phaseFinished: (String, Double) -> Void = { _, _ in }

    /// `body`'s result, with its time reported to `phaseFinished` under `phase`.
    private func timed<T>(_ phase: String, _ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { phaseFinished(phase, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
        return try body()
    }

    /// Long-form rows on held-out pretraining scenes the long-form ROUGE-L is measured on.
    static let longFormRows = 64

    /// `examples`: the test split of the rows the model was fine-tuned on.
    func evaluate(_ model: InstructBlip, test examples: [Example]) throws -> [Measured] {
        var measured = [Measured(condition: MetricName.image, name: MetricName.uniformLoss, value: log(Double(data.tokenizer.vocabularySize)))]
        let longForm = PretrainingSplit(data.pretraining).heldOut(.longForm).prefix(Self.longFormRows).map(\.example)
        let generated = spec.testSamples > 0 ? Array(examples.prefix(spec.testSamples)) : examples
        for condition in [MetricName.image, MetricName.blind] {
            let blank = condition == MetricName.blind
            func add(_ name: String, _ value: Double) { measured.append(Measured(condition: condition, name: name, value: value)) }
            let loss = try timed("test loss, \(condition)") { try testLoss(model, examples, blank: blank) }
            add(MetricName.testLoss, loss.mean)
            var items = loss.items.map { ["loss_sum": $0.sum, "tokens": Double($0.tokens)] }

            let replies = try timed("test replies, \(condition)") {
                try generate(model, generated.map { ($0.image, $0.query) }, blank: blank, maxNewTokens: spec.maxNewTokens)
            }
            let references = generated.map(\.response)
            timed("ROUGE and BLEU, \(condition)") {
                let rouge = RougeScorer().score(references: references, candidates: replies)
                add(MetricName.rouge1, rouge.meanF(.rouge1))
                add(MetricName.rouge2, rouge.meanF(.rouge2))
                add(MetricName.rougeL, rouge.meanF(.rougeL))
                for (index, sample) in rouge.samples.enumerated() {
                    items[index][MetricName.rouge1] = sample.rouge1.fmeasure
                    items[index][MetricName.rouge2] = sample.rouge2.fmeasure
                    items[index][MetricName.rougeL] = sample.rougeL.fmeasure
                }
                add(MetricName.bleu, BLEU.corpus(references: references, candidates: replies).value)
            }
            if let clip {
                // The generated text against the real image, also for the blind control.
                let cosines = try timed("CLIP score, \(condition)") { try clipCosines(clip, images: generated.map(\.image), texts: replies) }
                // Summed by batches of 32, as the score has always been: the same bits.
                let total = stride(from: 0, to: cosines.count, by: 32).reduce(0.0) { $0 + cosines[$1..<min($1 + 32, cosines.count)].reduce(0, +) }
                add(MetricName.clipScore, total / Double(max(cosines.count, 1)))
                for (index, cosine) in cosines.enumerated() { items[index][MetricName.clipScore] = cosine }
            }
            try writeGenerations(generated, replies, to: outputs.appendingPathComponent("generations-\(condition).jsonl"))
            if !longForm.isEmpty {
                let answers = try timed("long-form answers, \(condition)") {
                    try generate(model, longForm.map { ($0.image, $0.query) }, blank: blank, maxNewTokens: spec.maxNewTokens)
                }
                add(MetricName.longFormRougeL, RougeScorer().score(references: longForm.map(\.response), candidates: answers).meanF(.rougeL))
                try writeGenerations(longForm, answers, to: outputs.appendingPathComponent("long-form-\(condition).jsonl"))
            }
            try TestItems.write(items, to: TestItems.file(outputs: outputs, condition: condition))

            if spec.benchmark {
                let (scores, forcedChoice) = try timed("MME benchmark, \(condition)") {
                    try benchmark(model, blank: blank, folder: Workspace.benchmarkFolder(outputs: outputs, condition: condition))
                }
                add(MetricName.mmePerception, scores.perception)
                add(MetricName.mmeCognition, scores.cognition)
                add(MetricName.mmeOverall, scores.overall)
                let labels = scores.subtasks.flatMap(\.labels)
                add(MetricName.mmeYesNoShare, Double(labels.filter { $0 != .other }.count) / Double(max(labels.count, 1)))
                for subtask in scores.subtasks { add(MetricName.mme(subtask.name), subtask.score) }
                add(MetricName.mmeForcedChoice, forcedChoice)
            }
        }
        return measured
    }

    /// Mean token cross-entropy over the responses (the paper's test loss), and each example's sum
    /// and count of token losses (the paired bootstrap resamples examples).
    func testLoss(_ model: InstructBlip, _ examples: [Example], blank: Bool) throws -> (mean: Double, items: [(sum: Double, tokens: Int)]) {
        var total = 0.0, tokens = 0
        var items: [(sum: Double, tokens: Int)] = []
        try Autodiff.withoutGradients {
            for start in stride(from: 0, to: examples.count, by: 8) {
                let rows = min(start + 8, examples.count) - start
                let inputs = try encoder.batch(Array(examples[start..<start + rows]), data: data, blank: blank)
                let (logits, loss) = try model.forward(inputs, .evaluation(), reduction: .sum, allLogits: false)
                total += Double(loss!.scalar)
                tokens += PromptEncoder.countedTokens(inputs.labels!)
                // logits: [counted, V], the counted targets in row order.
                let targets = model.shiftedTargets(inputs.labels!, batch: rows)
                let length = targets.count / rows, v = logits.shape[1]
                var rowItems = [(sum: Double, tokens: Int)](repeating: (0, 0), count: rows)
                for (position, index) in targets.indices.filter({ targets[$0] != ignoreIndex }).enumerated() {
                    let row = logits.data + position * v
                    rowItems[index / length].sum += Double(logSumExp(row, count: v) - row[Int(targets[index])])
                    rowItems[index / length].tokens += 1
                }
                items += rowItems
            }
        }
        return (total / Double(max(tokens, 1)), items)
    }

    /// Greedy (or beam) replies to each (image, query), decoded to text.
    func generate(_ model: InstructBlip, _ prompts: [(ImageSource, String)], blank: Bool, maxNewTokens: Int) throws -> [String] {
        try generate(model, prompts, blank: blank, maxNewTokens: maxNewTokens, scoring: []).replies
    }

    /// The replies, and each prompt's log-probability of each of `continuations` (token ids) as the
    /// first tokens of its reply.
    func generate(_ model: InstructBlip, _ prompts: [(ImageSource, String)], blank: Bool, maxNewTokens: Int,
                  scoring continuations: [[Int32]]) throws -> (replies: [String], logProbabilities: [[Float]]) {
        let size = data.recipe.imageSize
        // One tensor per distinct image, so that generation encodes it once per batch.
        let blankImage = Tensor(zeros: [3, size, size])
        var replies: [String] = [], logProbabilities: [[Float]] = []
        for start in stride(from: 0, to: prompts.count, by: batch) {
            var pixels: [ImageSource: Tensor] = [:]
            let requests = try prompts[start..<min(start + batch, prompts.count)].map { image, query in
                if !blank, pixels[image] == nil { pixels[image] = try data.pixels(image) }
                return GenerationRequest(pixels: blank ? blankImage : pixels[image]!,
                                         promptIds: encoder.prompt(query), qformerIds: encoder.qformerIds(query))
            }
            let outputs = try model.generate(requests, options: GenerationOptions(maxNewTokens: maxNewTokens, beams: spec.beams,
                                                                                  vocabularyLimit: data.tokenizer.vocabularySize),
                                             scoring: continuations)
            replies += outputs.replies.map { data.tokenizer.decode($0.map(Int.init)).trimmingCharacters(in: .whitespacesAndNewlines) }
            logProbabilities += outputs.logProbabilities
        }
        return (replies, logProbabilities)
    }

    /// The MME-style benchmark: replies written in MME's format and scored by its rules; and the
    /// forced choice, the share of questions whose right answer the model finds likelier as the
    /// reply than the wrong one ("yes" against "no"), which a model that no longer replies yes or
    /// no still has.
    func benchmark(_ model: InstructBlip, blank: Bool, folder: URL) throws -> (scores: MMEScores, forcedChoice: Double) {
        let questions = data.benchmark.questions
        let prompts = questions.map { (ImageSource.scene($0.scene!), $0.question) }
        let isYes = questions.map { $0.answer.lowercased() == "yes" }
        // A yes or a no and the end of the sequence: longer replies are scored on their first characters anyway.
        // Each answer encoded as a response is, right after the prompt's newline.
        let (replies, logProbabilities) = try generate(model, prompts, blank: blank, maxNewTokens: 3,
                                                       scoring: [encoder.encode("yes"), encoder.encode("no")])
        var subtasks: [MMESubtask] = []
        for subtask in BenchmarkSubtask.allCases {
            let records = questions.indices.filter { questions[$0].subtask == subtask }.map { index in
                MMERecord(image: questions[index].imageName, question: questions[index].question,
                          groundTruth: isYes[index] ? .yes : .no, reply: replies[index])
            }
            if !records.isEmpty { subtasks.append(MMESubtask(name: subtask.rawValue, records: records)) }
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for subtask in subtasks { try MME.write(subtask, to: folder) }
        // A tie chooses neither.
        let chosen = zip(isYes, logProbabilities).filter { yes, score in yes ? score[0] > score[1] : score[1] > score[0] }.count
        return (try MME.score(subtasks), Double(chosen) / Double(max(questions.count, 1)))
    }

    /// The cosine between each image and its text, by the CLIP scorer (their mean is the CLIP score).
    func clipCosines(_ clip: ClipModel, images: [ImageSource], texts: [String]) throws -> [Double] {
        var cosines: [Double] = []
        try Autodiff.withoutGradients {
            for start in stride(from: 0, to: images.count, by: 32) {
                let range = start..<min(start + 32, images.count)
                let pixels = try data.pixels(range.map { images[$0] })
                let (ids, mask) = clipText(range.map { texts[$0] }, encoder: encoder, limit: clip.config.maxPositions)
                let a = clip.imageEmbeddings(pixels, .evaluation())
                let b = clip.textEmbeddings(ids: ids, mask: mask, batch: range.count, .evaluation())
                cosines += pairwiseCosine(a, b).map(Double.init)
            }
        }
        return cosines
    }

    func writeGenerations(_ examples: [Example], _ replies: [String], to url: URL) throws {
        var lines = ""
        for (example, reply) in zip(examples, replies) {
            let row: [String: String] = ["query": example.query, "reference": example.response, "generated": reply]
            lines += String(decoding: try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys]), as: UTF8.self) + "\n"
        }
        try writeAtomically(Foundation.Data(lines.utf8), to: url)
    }
}
