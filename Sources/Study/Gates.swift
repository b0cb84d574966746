import Data
import Engine
import Model

/// Each pretraining stage's own figure of merit, stored with its run, so that the recipe can be
/// tuned by editing study files alone (DESIGN.md, "How the base model is made").
enum Gates {
    /// The vision stage: accuracy per attribute on held-out scenes. Shape counts every cell (empty
    /// is a class, so it measures finding objects); colour, size and fill count occupied cells.
    static func vision(_ objective: VisionObjective) -> [Measured] {
        var correct = [Int](repeating: 0, count: VisionObjective.heads.count)
        var counted = correct
        Autodiff.withoutGradients {
            for start in stride(from: 0, to: objective.heldOut.count, by: 32) {
                let keys = Array(objective.heldOut[start..<min(start + 32, objective.heldOut.count)])
                let (logits, targets) = objective.logitsAndTargets(keys, .evaluation())
                let occupied = targets[0].map { $0 != 0 }
                for (head, (tensor, target)) in zip(logits, targets).enumerated() {
                    let classes = tensor.shape[1]
                    for (row, truth) in target.enumerated() {
                        let name = VisionObjective.heads[head].name
                        if ["color", "size", "fill"].contains(name) && !occupied[row] { continue }
                        if name == "text" && truth == 0 { continue }
                        let scores = UnsafeBufferPointer(start: tensor.data + row * classes, count: classes)
                        let predicted = scores.indices.max { scores[$0] < scores[$1] }!
                        correct[head] += predicted == Int(truth) ? 1 : 0
                        counted[head] += 1
                    }
                }
            }
        }
        return zip(VisionObjective.heads, zip(correct, counted)).map { head, counts in
            Measured(condition: MetricName.image, name: MetricName.gate("vision.\(head.name)"),
                     value: Double(counts.0) / Double(max(counts.1, 1)))
        }
    }

    /// The language stage: the share of held-out questions answered exactly, per skill and overall,
    /// by the language model reading the scene's code in place of the image. This is the ceiling of
    /// what alignment can teach: a Q-Former that wrote the code perfectly would score this.
    static func language(_ objective: LanguageObjective, rows: [PretrainingSample], tokenizer: Tokenizer) throws -> [Measured] {
        var right: [String: Int] = [:], total: [String: Int] = [:]
        for start in stride(from: 0, to: rows.count, by: 16) {
            let batch = Array(rows[start..<min(start + 16, rows.count)])
            let prefix = objective.prefix(batch.map(\.example))  // [b, Q, D]
            let requests = batch.enumerated().map { index, row in
                GenerationRequest(prefix: reshape(slice(prefix, axis: 0, index..<(index + 1)), Array(prefix.shape.dropFirst())),
                                  promptIds: objective.encoder.prompt(row.query))
            }
            let outputs = try objective.model.generate(requests, options: GenerationOptions(maxNewTokens: 16, vocabularyLimit: tokenizer.vocabularySize))
            for (row, output) in zip(batch, outputs) {
                let skill = row.skill?.rawValue ?? "caption"
                let answer = tokenizer.decode(output.map(Int.init))
                let ok = normalizedAnswer(answer) == normalizedAnswer(row.response)
                right[skill, default: 0] += ok ? 1 : 0
                total[skill, default: 0] += 1
            }
        }
        var measured = total.keys.sorted().map { skill in
            Measured(condition: MetricName.image, name: MetricName.gate("language.\(skill)"),
                     value: Double(right[skill]!) / Double(total[skill]!))
        }
        measured.append(Measured(condition: MetricName.image, name: MetricName.gate("language.overall"),
                                 value: Double(right.values.reduce(0, +)) / Double(max(total.values.reduce(0, +), 1))))
        return measured
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
}
