import Engine
import Foundation

/// How to decode.
public struct GenerationOptions: Sendable {
    public var maxNewTokens: Int
    /// End of sequence is not generated before this many new tokens (greedy decoding; `transformers`'
    /// `min_new_tokens`). Benchmarks use it to decode a fixed length.
    public var minNewTokens: Int
    /// 1 is greedy decoding.
    public var beams: Int
    /// Beam scores are divided by (generated length)^lengthPenalty, as `transformers`.
    public var lengthPenalty: Float
    /// Only ids below this are generated: the model's vocabulary may have rows its tokenizer never
    /// uses (it stopped merging early), which must never be chosen.
    public var vocabularyLimit: Int?

    public init(maxNewTokens: Int = 48, minNewTokens: Int = 0, beams: Int = 1, lengthPenalty: Float = 1, vocabularyLimit: Int? = nil) {
        self.maxNewTokens = maxNewTokens
        self.minNewTokens = minNewTokens
        self.beams = beams
        self.lengthPenalty = lengthPenalty
        self.vocabularyLimit = vocabularyLimit
    }
}

/// One image and its prompt, for generation.
public struct GenerationRequest {
    /// `[3, H, W]`, or nil for the language model alone (a prompt without image placeholders).
    public var pixels: Tensor?
    /// The language model's prompt, image placeholders included (no padding).
    public var promptIds: [Int32]
    /// The instruction as the Q-Former reads it (no padding).
    public var qformerIds: [Int32]
    /// `[Q, D_text]` vectors the image placeholders read instead of an image's (see `tokenMixture`).
    public var prefix: Tensor?

    public init(pixels: Tensor?, promptIds: [Int32], qformerIds: [Int32]) {
        self.pixels = pixels
        self.promptIds = promptIds
        self.qformerIds = qformerIds
    }

    /// A prompt whose image placeholders read `prefix` `[Q, D_text]`.
    public init(prefix: Tensor, promptIds: [Int32]) {
        self.init(pixels: nil, promptIds: promptIds, qformerIds: [])
        self.prefix = prefix
    }
}

extension InstructBlip {
    /// The generated tokens of each request (EOS excluded), decoding with a KV cache: greedy for
    /// one beam, in a left-padded batch; beam search otherwise, one request at a time.
    public func generate(_ requests: [GenerationRequest], options: GenerationOptions = GenerationOptions()) throws -> [[Int32]] {
        try generate(requests, options: options, scoring: []).replies
    }

    /// The replies of `generate`, and each request's log-probability of each of `continuations` as
    /// the first tokens of its reply (log-softmax over the whole vocabulary, summed over the
    /// continuation's tokens). Greedy decoding scores from the prefill it decodes from, so that
    /// one-token continuations cost no forward pass of their own.
    public func generate(_ requests: [GenerationRequest], options: GenerationOptions, scoring continuations: [[Int32]]) throws
        -> (replies: [[Int32]], logProbabilities: [[Float]]) {
        precondition(continuations.allSatisfy { !$0.isEmpty }, "an empty continuation has no probability to score")
        guard !requests.isEmpty else { return ([], []) }
        return try Autodiff.withoutGradients {
            var keyMask: [Int32] = []
            if options.beams <= 1 {
                let (cache, logits) = try prefill(requests, keyMask: &keyMask)
                let scores = logProbabilities(of: continuations, cache: cache, logits: logits, keyMask: keyMask)
                return (greedy(cache: cache, logits: logits, keyMask: keyMask, options), scores)
            }
            precondition(options.minNewTokens == 0, "a minimum length applies to greedy decoding only")
            let replies = try requests.map { try beamSearch($0, options) }
            guard !continuations.isEmpty else { return (replies, requests.map { _ in [] }) }
            let (cache, logits) = try prefill(requests, keyMask: &keyMask)
            return (replies, logProbabilities(of: continuations, cache: cache, logits: logits, keyMask: keyMask))
        }
    }

    /// Each prompt's log-probability of each continuation, from the prompts' cache and last logits
    /// `[B, 1, V]`: first tokens read off the logits, later ones teacher-forced in one forward pass
    /// over a copy of the cache, a row per prompt and continuation longer than one token.
    private func logProbabilities(of continuations: [[Int32]], cache: KVCache, logits: Tensor, keyMask: [Int32]) -> [[Float]] {
        let b = logits.shape[0], v = config.textConfig.vocabSize
        var scores = (0..<b).map { bi -> [Float] in
            let row = logits.data + bi * v
            let norm = logSumExp(row, count: v)
            return continuations.map { row[Int($0[0])] - norm }
        }
        let longer = continuations.indices.filter { continuations[$0].count > 1 }
        guard !longer.isEmpty else { return scores }
        // Row r reads continuation longer[r % longer.count] after prompt r / longer.count.
        let rows = (0..<b).flatMap { bi in longer.map { _ in bi } }
        let prompt = keyMask.count / b, fed = longer.map { continuations[$0].count - 1 }.max()!
        // Right padding needs no mask: causal attention hides it from every position that is read.
        let ids = rows.indices.flatMap { r -> [Int32] in
            let tokens = continuations[longer[r % longer.count]].dropLast()
            return tokens + [Int32](repeating: Int32(config.textConfig.padTokenId), count: fed - tokens.count)
        }
        let mask = rows.flatMap { keyMask[($0 * prompt)..<(($0 + 1) * prompt)] + [Int32](repeating: 1, count: fed) }
        let context = ForwardContext.evaluation()
        let hidden = languageModel(embedding(languageModel.embedTokens, ids: ids, shape: [rows.count, fed]), keyMask: mask,
                                   positions: (prompt..<(prompt + fed)).map(Int32.init), cache: cache.selecting(rows: rows), context)
        let next = languageModel.lmHead(hidden, context)
        for (r, bi) in rows.enumerated() {
            let index = longer[r % longer.count], continuation = continuations[index]
            for position in 1..<continuation.count {
                let row = next.data + (r * fed + position - 1) * v
                scores[bi][index] += row[Int(continuation[position])] - logSumExp(row, count: v)
            }
        }
        return scores
    }

    /// The cache after reading each prompt, and the logits of its last position `[B, 1, V]`.
    private func prefill(_ requests: [GenerationRequest], keyMask: inout [Int32]) throws -> (KVCache, Tensor) {
        let b = requests.count
        let context = ForwardContext.evaluation()
        let (ids, mask) = padded(requests.map(\.promptIds), onLeft: true)
        let t = ids.count / b
        let embeddings: Tensor
        let images = requests.compactMap(\.pixels), prefixes = requests.compactMap(\.prefix)
        if !prefixes.isEmpty {
            precondition(prefixes.count == b && images.isEmpty, "generation requests mix prefixes with images or plain prompts")
            embeddings = try inputEmbeddings(ids: ids, batch: b, features: concat(prefixes.map { reshape($0, [1] + $0.shape) }, axis: 0))
        } else if images.isEmpty {
            embeddings = embedding(languageModel.embedTokens, ids: ids, shape: [b, t])
        } else {
            precondition(images.count == b, "generation requests mix prompts with and without images")
            // The Q-Former's text positions count from the first token, as in training: padded on the right.
            let (qIds, qMask) = padded(requests.map(\.qformerIds), onLeft: false)
            let features = imageFeatures(visionOutput: sharedVisionOutput(images, context), qformerInputIds: qIds,
                                         qformerAttentionMask: qMask, context)
            embeddings = try inputEmbeddings(ids: ids, batch: b, features: features)
        }
        keyMask = mask
        let cache = KVCache(layers: config.textConfig.numHiddenLayers)
        let hidden = languageModel(embeddings, keyMask: mask, positions: (0..<t).map(Int32.init), cache: cache, context)
        return (cache, languageModel.lmHead(slice(hidden, axis: 1, (t - 1)..<t), context))
    }

    /// The vision encoder's output `[B, 1 + patches, D_vision]` for images `[3, H, W]` each, running it
    /// once per distinct tensor: the blind control's one blank image, a benchmark image asked twice.
    /// Each image is encoded on its own rows, so sharing leaves every value as it was.
    private func sharedVisionOutput(_ images: [Tensor], _ context: ForwardContext) -> Tensor {
        var distinct: [Tensor] = [], slot: [Int] = []
        for image in images {
            if let index = distinct.firstIndex(where: { $0 === image }) {
                slot.append(index)
            } else {
                slot.append(distinct.count)
                distinct.append(image)
            }
        }
        let encoded = visionOutput(concat(distinct.map { reshape($0, [1] + $0.shape) }, axis: 0), context)
        guard distinct.count < images.count else { return encoded }
        return concat(slot.map { slice(encoded, axis: 0, $0..<($0 + 1)) }, axis: 0)
    }

    /// Rows padded with the pad token to the longest, on the left or the right, and their masks.
    private func padded(_ rows: [[Int32]], onLeft: Bool) -> (ids: [Int32], mask: [Int32]) {
        let t = rows.map(\.count).max() ?? 0
        var ids: [Int32] = [], mask: [Int32] = []
        for row in rows {
            let pad = [Int32](repeating: Int32(config.textConfig.padTokenId), count: t - row.count)
            let ones = [Int32](repeating: 1, count: row.count), zeros = [Int32](repeating: 0, count: t - row.count)
            ids += onLeft ? pad + row : row + pad
            mask += onLeft ? zeros + ones : ones + zeros
        }
        return (ids, mask)
    }

    /// Feeds one new token per row and returns the next logits `[B, V]`.
    private func step(_ tokens: [Int32], cache: KVCache, keyMask: inout [Int32]) -> Tensor {
        let b = tokens.count
        let previous = keyMask.count / b
        var extended: [Int32] = []
        for bi in 0..<b { extended += keyMask[(bi * previous)..<((bi + 1) * previous)] + [1] }
        keyMask = extended
        let embedded = embedding(languageModel.embedTokens, ids: tokens, shape: [b, 1])
        let context = ForwardContext.evaluation()
        let hidden = languageModel(embedded, keyMask: keyMask, positions: [Int32(previous)], cache: cache, context)
        return languageModel.lmHead(hidden, context)
    }

    /// Greedy decoding from the prompts' cache and last logits `[B, 1, V]`.
    private func greedy(cache: KVCache, logits first: Tensor, keyMask prompts: [Int32], _ options: GenerationOptions) -> [[Int32]] {
        let b = first.shape[0], v = config.textConfig.vocabSize, eos = Int32(config.textConfig.eosTokenId)
        let usable = min(options.vocabularyLimit ?? v, v)
        var keyMask = prompts, logits = first
        var outputs = [[Int32]](repeating: [], count: b)
        var finished = [Bool](repeating: false, count: b)
        for index in 0..<options.maxNewTokens {
            var next = [Int32](repeating: eos, count: b)
            for bi in 0..<b where !finished[bi] {
                let row = UnsafeBufferPointer(start: logits.data + bi * v, count: usable)
                // The first highest logit, as argmax; end of sequence skipped below the minimum length.
                let skipped = outputs[bi].count < options.minNewTokens ? Int(eos) : -1
                var top = skipped == 0 ? 1 : 0
                for j in row.indices where j != skipped && row[j] > row[top] { top = j }
                let best = Int32(top)
                if best == eos { finished[bi] = true } else { outputs[bi].append(best) }
                next[bi] = best
            }
            // The last token chosen needs no logits after it.
            if finished.allSatisfy({ $0 }) || index == options.maxNewTokens - 1 { break }
            logits = step(next, cache: cache, keyMask: &keyMask)
        }
        return outputs
    }

    private func beamSearch(_ request: GenerationRequest, _ options: GenerationOptions) throws -> [Int32] {
        let k = options.beams, v = config.textConfig.vocabSize, eos = Int32(config.textConfig.eosTokenId)
        let usable = min(options.vocabularyLimit ?? v, v)
        var keyMask: [Int32] = []
        var (cache, logits) = try prefill([request], keyMask: &keyMask)
        // Live beams: tokens so far and summed log-probability; one beam until the first expansion.
        var beams: [(tokens: [Int32], score: Float)] = [([], 0)]
        var finished: [(tokens: [Int32], score: Float)] = []
        func normalised(_ score: Float, _ length: Int) -> Float { score / powf(Float(max(length, 1)), options.lengthPenalty) }

        for _ in 0..<options.maxNewTokens {
            var candidates: [(beam: Int, token: Int32, score: Float)] = []
            for (index, beam) in beams.enumerated() {
                let row = logits.data + index * v
                let logNorm = logSumExp(row, count: usable)
                for j in 0..<usable { candidates.append((index, Int32(j), beam.score + row[j] - logNorm)) }
            }
            candidates.sort { $0.score > $1.score }
            var next: [(tokens: [Int32], score: Float)] = []
            var rows: [Int] = []
            for candidate in candidates.prefix(2 * k) {
                let tokens = beams[candidate.beam].tokens
                if candidate.token == eos {
                    finished.append((tokens, normalised(candidate.score, tokens.count + 1)))
                } else if next.count < k {
                    next.append((tokens + [candidate.token], candidate.score))
                    rows.append(candidate.beam)
                }
            }
            // Done once k hypotheses have ended (transformers' early_stopping=True).
            if finished.count >= k || next.isEmpty { break }
            beams = next
            cache = cache.selecting(rows: rows)
            // One unpadded prompt: every beam sees every cached position.
            keyMask = [Int32](repeating: 1, count: rows.count * cache.length)
            logits = step(next.map { $0.tokens.last! }, cache: cache, keyMask: &keyMask)
        }
        let pool = finished.isEmpty ? beams.map { ($0.tokens, normalised($0.score, $0.tokens.count)) } : finished
        return pool.max { $0.1 < $1.1 }!.0
    }
}
