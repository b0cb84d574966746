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
        guard !requests.isEmpty else { return [] }
        return try Autodiff.withoutGradients {
            if options.beams <= 1 { return try greedy(requests, options) }
            precondition(options.minNewTokens == 0, "a minimum length applies to greedy decoding only")
            return try requests.map { try beamSearch($0, options) }
        }
    }

    /// The cache after reading each prompt, and the logits of its last position `[B, V]`.
    private func prefill(_ requests: [GenerationRequest], keyMask: inout [Int32]) throws -> (KVCache, Tensor) {
        let b = requests.count
        let context = ForwardContext.evaluation()
        let (ids, mask) = leftPadded(requests.map(\.promptIds))
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
            let pixels = concat(images.map { reshape($0, [1] + $0.shape) }, axis: 0)
            let (qIds, qMask) = leftPadded(requests.map(\.qformerIds))
            let features = imageFeatures(pixelValues: pixels, qformerInputIds: qIds, qformerAttentionMask: qMask, context)
            embeddings = try inputEmbeddings(ids: ids, batch: b, features: features)
        }
        keyMask = mask
        let cache = KVCache(layers: config.textConfig.numHiddenLayers)
        let hidden = languageModel(embeddings, keyMask: mask, positions: (0..<t).map(Int32.init), cache: cache, context)
        return (cache, languageModel.lmHead(slice(hidden, axis: 1, (t - 1)..<t), context))
    }

    /// Rows padded on the left with the pad token, and their masks.
    private func leftPadded(_ rows: [[Int32]]) -> (ids: [Int32], mask: [Int32]) {
        let t = rows.map(\.count).max() ?? 0
        var ids: [Int32] = [], mask: [Int32] = []
        for row in rows {
            ids += [Int32](repeating: Int32(config.textConfig.padTokenId), count: t - row.count) + row
            mask += [Int32](repeating: 0, count: t - row.count) + [Int32](repeating: 1, count: row.count)
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

    private func greedy(_ requests: [GenerationRequest], _ options: GenerationOptions) throws -> [[Int32]] {
        let b = requests.count, v = config.textConfig.vocabSize, eos = Int32(config.textConfig.eosTokenId)
        let usable = min(options.vocabularyLimit ?? v, v)
        var keyMask: [Int32] = []
        var (cache, logits) = try prefill(requests, keyMask: &keyMask)
        var outputs = [[Int32]](repeating: [], count: b)
        var finished = [Bool](repeating: false, count: b)
        for _ in 0..<options.maxNewTokens {
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
            if finished.allSatisfy({ $0 }) { break }
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
            cache.select(rows: rows)
            // One unpadded prompt: every beam sees every cached position.
            keyMask = [Int32](repeating: 1, count: rows.count * cache.length)
            logits = step(next.map { $0.tokens.last! }, cache: cache, keyMask: &keyMask)
        }
        let pool = finished.isEmpty ? beams.map { ($0.tokens, normalised($0.score, $0.tokens.count)) } : finished
        return pool.max { $0.1 < $1.1 }!.0
    }
}
