import Engine
import Foundation

/// The CLIP scorer's sizes: a ViT image tower, a transformer text tower, a shared embedding space.
public struct ClipConfig: Codable, Hashable, Sendable {
    public var vision = VisionConfig()
    public var textHiddenSize = 128
    public var textIntermediateSize = 512
    public var textLayers = 2
    public var textHeads = 4
    public var vocabSize = 1024
    public var maxPositions = 64
    public var projectionSize = 128

    public init() {}
}

/// A small dual encoder trained contrastively (CLIP's loss, with a learned temperature). The CLIP
/// score of an image and a text is the cosine of their embeddings, as the paper reports it.
public final class ClipModel {
    public let config: ClipConfig
    let vision: VisionEncoder
    let tokenEmbedding, positionEmbedding: Tensor  // [V, D], [P, D]
    let textLayers: [EncoderLayer]
    let textNorm: LayerNormModule
    let visualProjection, textProjection: Linear
    /// The logit multiplier (1 / temperature), learned; starts at 1/0.07 and is capped at 100, as CLIP.
    public let logitScale: Tensor
    public let parameters: ParameterSet

    public init(config: ClipConfig, seed: UInt64) {
        self.config = config
        let builder = ParameterBuilder(seed: seed)
        vision = VisionEncoder(config.vision, builder.scope("vision_model"))
        let text = builder.scope("text_model"), d = config.textHiddenSize, std: Float = 0.02
        tokenEmbedding = text.parameter("embeddings.token_embedding.weight", [config.vocabSize, d], .normal(std))
        positionEmbedding = text.parameter("embeddings.position_embedding.weight", [config.maxPositions, d], .normal(std))
        textLayers = (0..<config.textLayers).map {
            EncoderLayer(width: d, heads: config.textHeads, intermediate: config.textIntermediateSize, activation: "gelu",
                         eps: 1e-5, qkvBias: true, std: std, text.child("encoder.layers.\($0)"))
        }
        textNorm = text.layerNorm("final_layer_norm", d, eps: 1e-5)
        visualProjection = builder.scope("").linear("visual_projection", config.vision.hiddenSize, config.projectionSize, bias: false, std: std)
        textProjection = builder.scope("").linear("text_projection", d, config.projectionSize, bias: false, std: std)
        logitScale = builder.scope("").parameter("logit_scale", [1], .ones)
        logitScale.data[0] = 1 / 0.07
        parameters = ParameterSet(builder.created)
    }

    /// Unit-length image embeddings `[B, P]` from the class token.
    public func imageEmbeddings(_ pixels: Tensor, _ context: ForwardContext) -> Tensor {
        let features = vision(pixels, context)
        let (b, d) = (features.shape[0], features.shape[2])
        return l2Normalize(visualProjection(reshape(slice(features, axis: 1, 0..<1), [b, d]), context))
    }

    /// Unit-length text embeddings `[B, P]`: the mean of the final states over each text's tokens.
    /// - ids, mask: `[B, T]`, right-padded, T at most `maxPositions`.
    public func textEmbeddings(ids: [Int32], mask: [Int32], batch b: Int, _ context: ForwardContext) -> Tensor {
        let t = ids.count / max(b, 1), d = config.textHiddenSize
        precondition(t <= config.maxPositions, "text of \(t) tokens exceeds the CLIP scorer's \(config.maxPositions) positions")
        var h = embedding(tokenEmbedding, ids: ids, shape: [b, t]) + embedding(positionEmbedding, ids: (0..<t).map(Int32.init), shape: [1, t])
        for layer in textLayers { h = layer(h, keyMask: mask, context) }
        h = textNorm(h)
        // Masked mean: weights 1/count on tokens, 0 on padding.
        var weights = [Float](repeating: 0, count: b * t)
        for bi in 0..<b {
            let count = Float(max(1, mask[(bi * t)..<((bi + 1) * t)].reduce(0) { $0 + Int($1) }))
            for i in 0..<t where mask[bi * t + i] != 0 { weights[bi * t + i] = 1 / count }
        }
        let pooled = sum(h * Tensor(shape: [b, t, 1], values: weights), axis: 1)  // [B, D]
        return l2Normalize(textProjection(reshape(pooled, [b, d]), context))
    }

    /// CLIP's symmetric contrastive loss over a batch of matching (image, text) pairs.
    public func contrastiveLoss(images: Tensor, texts: Tensor) -> Tensor {
        let b = images.shape[0]
        let logits = matmul(images, texts, transposeB: true) * logitScale  // [B, B]
        let targets = (0..<b).map(Int32.init)
        let imageToText = crossEntropy(logits, targets: targets)
        let textToImage = crossEntropy(permute(logits, [1, 0]), targets: targets)
        return scale(imageToText + textToImage, 0.5)
    }

    /// Keeps the temperature where CLIP keeps it (scale at most 100).
    public func clampTemperature() {
        logitScale.data[0] = min(logitScale.data[0], 100)
    }
}

/// Cosine of each row of `a` with the same row of `b` (both unit length): the CLIP score per pair.
public func pairwiseCosine(_ a: Tensor, _ b: Tensor) -> [Float] {
    precondition(a.shape == b.shape && a.rank == 2, "cosines of \(a.shape) and \(b.shape)")
    let (n, d) = (a.shape[0], a.shape[1])
    return (0..<n).map { i in (0..<d).reduce(Float(0)) { $0 + a.data[i * d + $1] * b.data[i * d + $1] } }
}
