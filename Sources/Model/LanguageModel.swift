import Engine

/// The keys and values each decoder layer has seen, so that decoding a token costs one position.
public final class KVCache {
    /// Per layer: `[B, T, H, D]`, T growing with each step.
    var keys: [Tensor?], values: [Tensor?]

    init(layers: Int) {
        keys = Array(repeating: nil, count: layers)
        values = Array(repeating: nil, count: layers)
    }

    /// Positions cached so far.
    public var length: Int { keys.first??.shape[1] ?? 0 }

    /// A cache of batch rows `rows` of this one (in that order, repeats allowed), this one left as it
    /// is: beam search's reordering, and the rows that score continuations beside decoding.
    func selecting(rows: [Int]) -> KVCache {
        func pick(_ t: Tensor?) -> Tensor? {
            guard let t else { return nil }
            return concat(rows.map { slice(t, axis: 0, $0..<($0 + 1)) }, axis: 0)
        }
        let selected = KVCache(layers: keys.count)
        selected.keys = keys.map(pick)
        selected.values = values.map(pick)
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
        var k = rotaryEmbedding(splitHeads(kProj(h, context), heads: heads), positions: positions, theta: config.ropeTheta)
        var v = splitHeads(vProj(h, context), heads: heads)
        if let cache {
            if let past = cache.keys[layer] { k = concat([past, k], axis: 1) }
            if let past = cache.values[layer] { v = concat([past, v], axis: 1) }
            cache.keys[layer] = k
            cache.values[layer] = v
        }
        let attended = attention(query: q, key: k, value: v, causal: true, keyMask: keyMask)
        let residual = x + oProj(mergeHeads(attended), context)
        let m = postAttentionNorm(residual)
        let gated = activation == .silu
            ? swiglu(gate: gateProj(m, context), up: upProj(m, context))
            : Engine.activation(gateProj(m, context), activation) * upProj(m, context)
        return residual + downProj(gated, context)
    }
}
