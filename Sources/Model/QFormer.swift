import Engine

/// The instruction-aware Q-Former (`InstructBlipQFormerModel`): learned queries and the
/// instruction's tokens attend to each other; the queries alone attend to the image.
struct QFormer {
    let config: QFormerConfig
    let wordEmbeddings: Tensor  // [V, D]
    let positionEmbeddings: Tensor  // [P, D]
    let embeddingLayerNorm: LayerNormModule
    let layers: [QFormerLayer]

    init(_ config: QFormerConfig, _ scope: ParameterScope) {
        self.config = config
        let d = config.hiddenSize, std = config.initializerRange
        wordEmbeddings = scope.parameter("embeddings.word_embeddings.weight", [config.vocabSize, d], .normal(std))
        positionEmbeddings = scope.parameter("embeddings.position_embeddings.weight", [config.maxPositionEmbeddings, d], .normal(std))
        embeddingLayerNorm = scope.layerNorm("embeddings.layernorm", d, eps: config.layerNormEps)
        layers = (0..<config.numHiddenLayers).map { QFormerLayer(config, index: $0, scope.child("encoder.layer.\($0)")) }
    }

    /// - queries: `[B, Q, D]`; instruction: ids `[B, T]` with mask `[B, T]` (1 = token, 0 = padding);
    ///   image: `[B, N, Dv]`. Returns the query positions' outputs `[B, Q, D]`.
    func callAsFunction(queries: Tensor, instruction ids: [Int32], instructionMask: [Int32], image: Tensor,
                        _ context: ForwardContext) -> Tensor {
        let (b, q) = (queries.shape[0], queries.shape[1])
        let t = ids.count / max(b, 1)
        precondition(t <= config.maxPositionEmbeddings,
                     "instruction of \(t) tokens exceeds qformer_config.max_position_embeddings = \(config.maxPositionEmbeddings)")
        var h = queries
        if t > 0 {
            // Text positions count from the first text token; the queries get none.
            let positions = embedding(positionEmbeddings, ids: (0..<t).map(Int32.init), shape: [1, t])
            let text = embedding(wordEmbeddings, ids: ids, shape: [b, t]) + positions
            h = concat([queries, text], axis: 1)
        }
        h = context.dropout(embeddingLayerNorm(h), config.hiddenDropoutProb)
        // Key mask over [queries, instruction]: queries always visible.
        var keyMask: [Int32] = []
        keyMask.reserveCapacity(b * (q + t))
        for bi in 0..<b { keyMask += [Int32](repeating: 1, count: q) + instructionMask[(bi * t)..<((bi + 1) * t)] }
        for layer in layers { h = layer(h, queryLength: q, keyMask: keyMask, image: image, context) }
        return t > 0 ? slice(h, axis: 1, 0..<q) : h
    }
}

/// Multi-head attention with BERT's output block: LN(dense(attn) + input).
struct QFormerAttention {
    let heads: Int
    let query, key, value, dense: Linear
    let layerNorm: LayerNormModule
    let dropout: Float

    init(_ config: QFormerConfig, keyWidth: Int, _ scope: ParameterScope) {
        let d = config.hiddenSize, std = config.initializerRange
        heads = config.numAttentionHeads
        query = scope.linear("attention.query", d, d, std: std)
        key = scope.linear("attention.key", keyWidth, d, std: std)
        value = scope.linear("attention.value", keyWidth, d, std: std)
        dense = scope.linear("output.dense", d, d, std: std)
        layerNorm = scope.layerNorm("output.LayerNorm", d, eps: config.layerNormEps)
        dropout = config.hiddenDropoutProb
    }

    // x: [B, T, D] attends to source: [B, S, Dk] -> [B, T, D]
    func callAsFunction(_ x: Tensor, source: Tensor, keyMask: [Int32]?, _ context: ForwardContext) -> Tensor {
        let attended = attention(query: splitHeads(query(x, context), heads: heads),
                                 key: splitHeads(key(source, context), heads: heads),
                                 value: splitHeads(value(source, context), heads: heads), keyMask: keyMask)
        return layerNorm(context.dropout(dense(mergeHeads(attended), context), dropout) + x)
    }
}

/// BERT's feed-forward block: LN(output(act(intermediate(x))) + x).
struct QFormerFeedForward {
    let intermediate, output: Linear
    let layerNorm: LayerNormModule
    let activation: Activation
    let dropout: Float

    init(_ config: QFormerConfig, intermediate: ParameterScope, output: ParameterScope) {
        let d = config.hiddenSize, std = config.initializerRange
        self.intermediate = intermediate.linear("dense", d, config.intermediateSize, std: std)
        self.output = output.linear("dense", config.intermediateSize, d, std: std)
        layerNorm = output.layerNorm("LayerNorm", d, eps: config.layerNormEps)
        activation = Model.activation(named: config.hiddenAct)
        dropout = config.hiddenDropoutProb
    }

    func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor {
        let h = Engine.activation(intermediate(x, context), activation)
        return layerNorm(context.dropout(output(h, context), dropout) + x)
    }
}

/// One Q-Former layer: self-attention over queries and text; cross-attention from the queries to
/// the image on every `cross_attention_frequency`-th layer; separate feed-forward weights for
/// query and text positions.
struct QFormerLayer {
    let selfAttention: QFormerAttention
    let crossAttention: QFormerAttention?
    let textFeedForward, queryFeedForward: QFormerFeedForward

    init(_ config: QFormerConfig, index: Int, _ scope: ParameterScope) {
        selfAttention = QFormerAttention(config, keyWidth: config.hiddenSize, scope.child("attention"))
        crossAttention = index % config.crossAttentionFrequency == 0
            ? QFormerAttention(config, keyWidth: config.encoderHiddenSize, scope.child("crossattention")) : nil
        textFeedForward = QFormerFeedForward(config, intermediate: scope.child("intermediate"), output: scope.child("output"))
        queryFeedForward = QFormerFeedForward(config, intermediate: scope.child("intermediate_query"), output: scope.child("output_query"))
    }

    // h: [B, Q+T, D] -> [B, Q+T, D]
    func callAsFunction(_ h: Tensor, queryLength q: Int, keyMask: [Int32], image: Tensor, _ context: ForwardContext) -> Tensor {
        let total = h.shape[1]
        let attended = selfAttention(h, source: h, keyMask: keyMask, context)
        var queries = total > q ? slice(attended, axis: 1, 0..<q) : attended
        if let crossAttention { queries = crossAttention(queries, source: image, keyMask: nil, context) }
        let queryOut = queryFeedForward(queries, context)
        guard total > q else { return queryOut }
        let textOut = textFeedForward(slice(attended, axis: 1, q..<total), context)
        return concat([queryOut, textOut], axis: 1)
    }
}
