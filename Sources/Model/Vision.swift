import Engine

/// The vision encoder: a pre-LN ViT (`InstructBlipVisionModel`).
struct VisionEncoder {
    let config: VisionConfig
    let patchWeight: Tensor, patchBias: Tensor  // [D, 3, p, p], [D]
    let classEmbedding: Tensor  // [1, 1, D]
    let positionEmbedding: Tensor  // [1, N+1, D]
    let layers: [EncoderLayer]
    let postLayerNorm: LayerNormModule

    init(_ config: VisionConfig, _ scope: ParameterScope) {
        self.config = config
        let d = config.hiddenSize, std = config.initializerRange
        let embeddings = scope.child("embeddings")
        patchWeight = embeddings.parameter("patch_embedding.weight", [d, 3, config.patchSize, config.patchSize], .normal(std))
        patchBias = embeddings.parameter("patch_embedding.bias", [d], .zeros)
        classEmbedding = embeddings.parameter("class_embedding", [1, 1, d], .truncatedNormal(std))
        positionEmbedding = embeddings.parameter("position_embedding", [1, config.numPatches + 1, d], .truncatedNormal(std))
        layers = (0..<config.numHiddenLayers).map {
            EncoderLayer(width: d, heads: config.numAttentionHeads, intermediate: config.intermediateSize, activation: config.hiddenAct,
                         eps: config.layerNormEps, qkvBias: config.qkvBias, std: std, scope.child("encoder.layers.\($0)"))
        }
        postLayerNorm = scope.layerNorm("post_layernorm", d, eps: config.layerNormEps)
    }

    // pixels: [B, 3, H, W] -> [B, N+1, D]
    func callAsFunction(_ pixels: Tensor, _ context: ForwardContext) -> Tensor {
        let b = pixels.shape[0], d = config.hiddenSize
        let patches = patchEmbedding(pixels, weight: patchWeight, bias: patchBias)  // [B, N, D]
        // The class token, broadcast over the batch by adding it to zeros.
        let classTokens = Tensor(zeros: [b, 1, d]) + classEmbedding
        var h = concat([classTokens, patches], axis: 1) + positionEmbedding
        for layer in layers { h = layer(h, context) }
        return postLayerNorm(h)
    }
}

/// One pre-LN transformer layer with a fused qkv projection (the ViT's, also the CLIP text tower's):
/// x + attn(LN(x)), then + MLP(LN(.)).
struct EncoderLayer {
    let heads: Int
    let qkv: Linear  // [3D, D] with the fused bias (q, k, v)
    let projection: Linear
    let layerNorm1, layerNorm2: LayerNormModule
    let fc1, fc2: Linear
    let activation: Activation

    init(width d: Int, heads: Int, intermediate: Int, activation: String, eps: Float, qkvBias: Bool, std: Float,
         _ scope: ParameterScope) {
        self.heads = heads
        qkv = scope.linear("self_attn.qkv", d, 3 * d, bias: qkvBias, std: std)
        projection = scope.linear("self_attn.projection", d, d, std: std)
        layerNorm1 = scope.layerNorm("layer_norm1", d, eps: eps)
        layerNorm2 = scope.layerNorm("layer_norm2", d, eps: eps)
        fc1 = scope.linear("mlp.fc1", d, intermediate, std: std)
        fc2 = scope.linear("mlp.fc2", intermediate, d, std: std)
        self.activation = Model.activation(named: activation)
    }

    // x: [B, T, D] -> [B, T, D]; keyMask [B, T] (1 = token) or nil for none
    func callAsFunction(_ x: Tensor, keyMask: [Int32]? = nil, _ context: ForwardContext) -> Tensor {
        let (b, t, d) = (x.shape[0], x.shape[1], x.shape[2])
        let mixed = reshape(qkv(layerNorm1(x), context), [b, t, 3, heads, d / heads])
        func part(_ i: Int) -> Tensor { reshape(slice(mixed, axis: 2, i..<(i + 1)), [b, t, heads, d / heads]) }
        let attended = attention(query: part(0), key: part(1), value: part(2), keyMask: keyMask)
        let h = x + projection(mergeHeads(attended), context)
        return h + fc2(Engine.activation(fc1(layerNorm2(h), context), activation), context)
    }
}
