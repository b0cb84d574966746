import Engine

/// The keys and values each decoder layer has seen, so that decoding a token costs one position.
/// Each layer's are kept in `[B, capacity, H, D]` tensors that grow by doubling, so that a new
/// position is written in place instead of copying the whole cache at every step.
public final class KVCache {
    /// Per layer: `[B, capacity, H, D]`, the first `filled[layer]` positions of each row in use.
    private var keys: [Tensor?], values: [Tensor?]
    private var filled: [Int]

    init(layers: Int) {
        keys = Array(repeating: nil, count: layers)
        values = Array(repeating: nil, count: layers)
        filled = Array(repeating: 0, count: layers)
    }

    /// Positions cached so far.
    public var length: Int { filled.first ?? 0 }

    /// Appends one layer's new keys and values `[B, T, H, D]`; returns that layer's whole cache
    /// (`[B, capacity, H, D]` each) and how many positions of it are filled.
    func append(layer: Int, keys new: Tensor, values newValues: Tensor) -> (keys: Tensor, values: Tensor, count: Int) {
        precondition(!new.requiresGrad && !newValues.requiresGrad, "the KV cache serves decoding, which records no gradients")
        let (b, t) = (new.shape[0], new.shape[1]), row = new.shape[2] * new.shape[3]
        let count = filled[layer] + t
        if keys[layer] == nil || keys[layer]!.shape[1] < count {
            let capacity = max(count, 2 * (keys[layer]?.shape[1] ?? 0))
            keys[layer] = Self.moved(keys[layer], rows: filled[layer], shape: [b, capacity] + new.shape.suffix(2))
            values[layer] = Self.moved(values[layer], rows: filled[layer], shape: [b, capacity] + new.shape.suffix(2))
        }
        let (k, v) = (keys[layer]!, values[layer]!), capacity = k.shape[1]
        for bi in 0..<b {
            let at = (bi * capacity + filled[layer]) * row
            (k.data + at).update(from: new.data + bi * t * row, count: t * row)
            (v.data + at).update(from: newValues.data + bi * t * row, count: t * row)
        }
        filled[layer] = count
        return (k, v, count)
    }

    /// A tensor of `shape` (`[B, capacity, H, D]`) holding the first `rows` positions of `old` (nil: none yet).
    private static func moved(_ old: Tensor?, rows: Int, shape: [Int]) -> Tensor {
        let grown = Tensor(zeros: shape)
        guard let old else { return grown }
        let (capacity, row) = (shape[1], shape[2] * shape[3])
        for bi in 0..<shape[0] { (grown.data + bi * capacity * row).update(from: old.data + bi * old.shape[1] * row, count: rows * row) }
        return grown
    }

    /// A cache of batch rows `rows` of this one (in that order, repeats allowed), this one left as it
    /// is: beam search's reordering, and the rows that score continuations beside decoding.
    func selecting(rows: [Int]) -> KVCache {
        func pick(_ t: Tensor?) -> Tensor? {
            guard let t else { return nil }
            let perRow = t.count / t.shape[0]
            let picked = Tensor(zeros: [rows.count] + Array(t.shape.dropFirst()))
            for (index, row) in rows.enumerated() { (picked.data + index * perRow).update(from: t.data + row * perRow, count: perRow) }
            return picked
        }
        let selected = KVCache(layers: keys.count)
        selected.keys = keys.map(pick)
        selected.values = values.map(pick)
        selected.filled = filled
        return selected
    }
}

/// The LLaMA (Vicuna) decoder: `language_model.model` and `language_model.lm_head`.
struct LanguageModel {
    let config: TextConfig
    let embedTokens: Tensor  // [V, D]
    let layers: [DecoderLayer]
    let norm: RMSNormModule
    let lmHead: Linear  // [V, D], untied

    init(_ config: TextConfig, _ scope: ParameterScope) {
        self.config = config
        let d = config.hiddenSize, std = config.initializerRange
        embedTokens = scope.parameter("model.embed_tokens.weight", [config.vocabSize, d], .normal(std))
        layers = (0..<config.numHiddenLayers).map { DecoderLayer(config, scope.child("model.layers.\($0)")) }
        norm = scope.rmsNorm("model.norm", d, eps: config.rmsNormEps)
        lmHead = scope.linear("lm_head", d, config.vocabSize, bias: false, std: std)
    }

    /// - embeddings: `[B, T, D]`, the new positions; keyMask: `[B, cached + T]` (1 = token);
    ///   positions: `[T]` or `[B, T]`. Appends to `cache` when given. Returns `[B, T, D]` after the final norm.
    func callAsFunction(_ embeddings: Tensor, keyMask: [Int32], positions: [Int32], cache: KVCache?,
                        _ context: ForwardContext) -> Tensor {
        var h = embeddings
        for (index, layer) in layers.enumerated() {
            h = layer(h, keyMask: keyMask, positions: positions, cache: cache, layer: index, context)
        }
        return norm(h)
    }
}

/// One pre-norm LLaMA layer: x + o(attn(rope(q), rope(k), v)), then + down(act(gate) * up).
struct DecoderLayer {
    let config: TextConfig
    let qProj, kProj, vProj, oProj: Linear
    let gateProj, upProj, downProj: Linear
    let inputNorm, postAttentionNorm: RMSNormModule
    let activation: Activation

    init(_ config: TextConfig, _ scope: ParameterScope) {
        self.config = config
        let d = config.hiddenSize, std = config.initializerRange
        qProj = scope.linear("self_attn.q_proj", d, d, bias: config.attentionBias, std: std)
        kProj = scope.linear("self_attn.k_proj", d, d, bias: config.attentionBias, std: std)
        vProj = scope.linear("self_attn.v_proj", d, d, bias: config.attentionBias, std: std)
        oProj = scope.linear("self_attn.o_proj", d, d, bias: config.attentionBias, std: std)
        gateProj = scope.linear("mlp.gate_proj", d, config.intermediateSize, bias: config.mlpBias, std: std)
        upProj = scope.linear("mlp.up_proj", d, config.intermediateSize, bias: config.mlpBias, std: std)
        downProj = scope.linear("mlp.down_proj", config.intermediateSize, d, bias: config.mlpBias, std: std)
        inputNorm = scope.rmsNorm("input_layernorm", d, eps: config.rmsNormEps)
        postAttentionNorm = scope.rmsNorm("post_attention_layernorm", d, eps: config.rmsNormEps)
        activation = Model.activation(named: config.hiddenAct)
    }

    // x: [B, T, D] -> [B, T, D]
    func callAsFunction(_ x: Tensor, keyMask: [Int32], positions: [Int32], cache: KVCache?, layer: Int,
                        _ context: ForwardContext) -> Tensor {
        let heads = config.numAttentionHeads
        let h = inputNorm(x)
        let q = rotaryEmbedding(splitHeads(qProj(h, context), heads: heads), positions: positions, theta: config.ropeTheta)
        let k = rotaryEmbedding(splitHeads(kProj(h, context), heads: heads), positions: positions, theta: config.ropeTheta)
        let v = splitHeads(vProj(h, context), heads: heads)
        let attended: Tensor
        if let cache {
            let cached = cache.append(layer: layer, keys: k, values: v)
            attended = attention(query: q, key: cached.keys, value: cached.values, causal: true, keyMask: keyMask, keyCount: cached.count)
        } else {
            attended = attention(query: q, key: k, value: v, causal: true, keyMask: keyMask)
        }
        let residual = x + oProj(mergeHeads(attended), context)
        let m = postAttentionNorm(residual)
        let gated = activation == .silu
            ? swiglu(gate: gateProj(m, context), up: upProj(m, context))
            : Engine.activation(gateProj(m, context), activation) * upProj(m, context)
        return residual + downProj(gated, context)
    }
}
