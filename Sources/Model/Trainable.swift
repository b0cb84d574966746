/// Which parts of the model train; everything else is frozen. LoRA tensors always train.
/// The paper trains the vision encoder, the Q-Former (with its query tokens and the projection
/// into the language model) and the last four language-model layers, with LoRA on the rest.
public struct TrainableParts: Codable, Hashable, Sendable {
    public var vision: Bool
    /// `query_tokens`, `qformer.*` and `language_projection.*`.
    public var qformer: Bool
    /// Language-model layers trained in full (their LoRA adapters train regardless).
    public var languageModelLayers: Range<Int>
    /// `language_model.model.embed_tokens`.
    public var languageModelEmbeddings: Bool
    /// `language_model.model.norm` and `language_model.lm_head`.
    public var languageModelHead: Bool

    public init(vision: Bool, qformer: Bool, languageModelLayers: Range<Int>,
                languageModelEmbeddings: Bool, languageModelHead: Bool) {
        self.vision = vision
        self.qformer = qformer
        self.languageModelLayers = languageModelLayers
        self.languageModelEmbeddings = languageModelEmbeddings
        self.languageModelHead = languageModelHead
    }

    /// Everything trains.
    public static func all(layers: Int) -> TrainableParts {
        TrainableParts(vision: true, qformer: true, languageModelLayers: 0..<layers, languageModelEmbeddings: true, languageModelHead: true)
    }

    /// Only LoRA adapters train (peft's default).
    public static let adaptersOnly = TrainableParts(vision: false, qformer: false, languageModelLayers: 0..<0,
                                                    languageModelEmbeddings: false, languageModelHead: false)

    /// The paper's setting: vision, Q-Former and the last `count` of `layers` LM layers.
    public static func paper(lastLayers count: Int = 4, of layers: Int) -> TrainableParts {
        TrainableParts(vision: true, qformer: true, languageModelLayers: max(0, layers - count)..<layers,
                       languageModelEmbeddings: false, languageModelHead: false)
    }

    /// Whether the parameter named `name` trains.
    public func trains(_ name: String) -> Bool {
        if name.contains(".lora_A.") || name.contains(".lora_B.") { return true }
        if name.hasPrefix("vision_model.") { return vision }
        if name == "query_tokens" || name.hasPrefix("qformer.") || name.hasPrefix("language_projection.") { return qformer }
        if name.hasPrefix("language_model.model.embed_tokens.") { return languageModelEmbeddings }
        if name.hasPrefix("language_model.model.norm.") || name.hasPrefix("language_model.lm_head.") { return languageModelHead }
        let layerPrefix = "language_model.model.layers."
        if name.hasPrefix(layerPrefix), let index = Int(name.dropFirst(layerPrefix.count).prefix { $0 != "." }) {
            return languageModelLayers.contains(index)
        }
        return false
    }
}
