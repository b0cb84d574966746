import Study
import Data
import Engine
import Model

/// An image, an instruction, and the response to learn or compare with.
public struct Example: Sendable {
    public let image: ImageSource
    public let query: String
    public let response: String
    /// The words the scene code's answer position holds (empty: none); nil: the response's.
    public let codeAnswer: String?

    public init(image: ImageSource, query: String, response: String, codeAnswer: String? = nil) {
        self.image = image
        self.query = query
        self.response = response
        self.codeAnswer = codeAnswer
    }
}

/// How examples become model inputs. The language model reads `<image> x Q`, `<s>`, the query and a
/// newline, then the response and `</s>`; only the response and `</s>` carry loss. The Q-Former
/// reads the query. Batches are right-padded.
struct PromptEncoder {
    let tokenizer: Tokenizer
    let queryTokens: Int
    /// Count padding positions in the loss (labels = the pad token), as fixed-length padding without
    /// masking would; off by default.
    let countPadding: Bool

    /// The language model's prompt: placeholders (when there is an image), BOS, query, newline.
    func prompt(_ query: String, image: Bool = true) -> [Int32] {
        let placeholders = image ? [Int32](repeating: Int32(Tokenizer.imageID), count: queryTokens) : []
        return placeholders + [Int32(Tokenizer.bosID)] + encode(query + "\n")
    }

    func qformerIds(_ query: String) -> [Int32] { encode(query) }

    func encode(_ text: String) -> [Int32] { tokenizer.encode(text).map(Int32.init) }

    /// One example's token ids (prompt, response, EOS) and labels (the response and EOS), unpadded.
    func sequence(_ example: Example, image: Bool) -> (ids: [Int32], labels: [Int32]) {
        let prompt = prompt(example.query, image: image)
        let answer = encode(example.response) + [Int32(Tokenizer.eosID)]
        return (prompt + answer, [Int32](repeating: ignoreIndex, count: prompt.count) + answer)
    }

    /// Token ids and labels of whole examples, right-padded to the longest.
    func sequences(_ examples: [Example], image: Bool) -> (ids: [Int32], mask: [Int32], labels: [Int32], length: Int) {
        padded(examples.map { sequence($0, image: image) })
    }

    /// Rows from `sequence`, right-padded to the longest, with their mask and the padding's labels.
    func padded(_ rows: [(ids: [Int32], labels: [Int32])]) -> (ids: [Int32], mask: [Int32], labels: [Int32], length: Int) {
        let length = rows.map(\.ids.count).max() ?? 0
        var ids: [Int32] = [], mask: [Int32] = [], labels: [Int32] = []
        for row in rows {
            let pad = length - row.ids.count
            ids += row.ids + [Int32](repeating: Int32(Tokenizer.padID), count: pad)
            mask += [Int32](repeating: 1, count: row.ids.count) + [Int32](repeating: 0, count: pad)
            labels += row.labels + [Int32](repeating: countPadding ? Int32(Tokenizer.padID) : ignoreIndex, count: pad)
        }
        return (ids, mask, labels, length)
    }

    /// A training or evaluation batch; `blank` replaces every image by a blank one (the blind control).
    func batch(_ examples: [Example], data: DataBundle, blank: Bool = false) throws -> ModelInputs {
        let (ids, mask, labels, _) = sequences(examples, image: true)
        let questions = examples.map { qformerIds($0.query) }
        let width = questions.map(\.count).max() ?? 0
        var qIds: [Int32] = [], qMask: [Int32] = []
        for q in questions {
            qIds += q + [Int32](repeating: Int32(Tokenizer.padID), count: width - q.count)
            qMask += [Int32](repeating: 1, count: q.count) + [Int32](repeating: 0, count: width - q.count)
        }
        let size = data.recipe.imageSize
        let pixels = blank
            ? Tensor(zeros: [examples.count, 3, size, size])
            : try data.pixels(examples.map(\.image))
        return ModelInputs(pixelValues: pixels, inputIds: ids, attentionMask: mask, qformerInputIds: qIds,
                           qformerAttentionMask: qMask, labels: labels)
    }

    /// Token weights `[B * Q, vocabulary]` whose product with the language model's embedding table
    /// is each example's scene code at the Q query positions: each cell's and the background's words
    /// (`SceneCode`) averaged into one position, then the answer's words averaged into one (the
    /// response's, or the example's `codeAnswer`: what the instruction-aware Q-Former learns to find
    /// in the image), with `asked` the
    /// instruction's words about the world averaged into the next (`SceneCode.askedWords`), then
    /// the scene's text one token per position, as many as the positions left hold. When even the
    /// fixed parts outnumber the positions (a small profile), part i shares position i mod Q.
    /// Without `answer`, the answer's position stands empty (a row of zeros); so does the asked
    /// position of an instruction that names nothing in the world.
    func sceneCodeWeights(_ examples: [Example], recipe: DataRecipe, vocabulary: Int, answer: Bool = true,
                          asked: Bool = true) -> Tensor {
        let q = queryTokens
        var positions: [[Int32]] = []
        for example in examples {
            let code = SceneCode(example.scene(recipe))
            let answerWords = example.codeAnswer ?? example.response
            var fixed = code.groups.map { encode(" " + $0) } + [answer && !answerWords.isEmpty ? encode(" " + answerWords) : []]
            if asked {
                let words = SceneCode.askedWords(example.query, recipe: recipe)
                fixed.append(words.isEmpty ? [] : encode(" " + words.joined(separator: " ")))
            }
            let parts = fixed + (code.text.map { textSlots($0, asked: asked).map { [$0.token] } } ?? [])
            var tokens = [[Int32]](repeating: [], count: q)
            for (index, part) in parts.enumerated() { tokens[index % q] += part }
            positions += tokens
        }
        return averagingWeights(positions, vocabulary: vocabulary)
    }

    /// The query positions that carry a scene's text, one token each after the fixed groups (the
    /// cells, the background, the answer and, with `asked`, the asked words), as many as fit.
    func textSlots(_ text: String, asked: Bool) -> [(position: Int, token: Int32)] {
        let first = SceneCode.groupCount + 1 + (asked ? 1 : 0)
        return encode(" " + text).prefix(max(queryTokens - first, 0)).enumerated().map { (first + $0, $1) }
    }

    /// Token weights `[positions.count, vocabulary]`: each row averages its position's tokens (a
    /// row of zeros for none), so that their product with the embedding table is the averaged embeddings.
    func averagingWeights(_ positions: [[Int32]], vocabulary: Int) -> Tensor {
        var weights = [Float](repeating: 0, count: positions.count * vocabulary)
        for (row, ids) in positions.enumerated() {
            for id in ids { weights[row * vocabulary + Int(id)] += 1 / Float(ids.count) }
        }
        return Tensor(shape: [positions.count, vocabulary], values: weights)
    }

    /// The query position whose code is the answer to the instruction (after the groups).
    var answerPosition: Int { SceneCode.groupCount % queryTokens }

    /// The query position whose code is the instruction's asked words (after the answer).
    var askedPosition: Int { (SceneCode.groupCount + 1) % queryTokens }

    /// Labelled positions of a batch (what a summed loss is divided by).
    static func countedTokens(_ labels: [Int32]) -> Int { labels.reduce(0) { $0 + ($1 == ignoreIndex ? 0 : 1) } }
}
