import Engine
import Foundation

/// The vision encoder's configuration, named as `InstructBlipVisionConfig`.
public struct VisionConfig: Codable, Hashable, Sendable {
    public var hiddenSize = 128
    public var intermediateSize = 512
    public var numHiddenLayers = 4
    public var numAttentionHeads = 4
    public var imageSize = 64
    public var patchSize = 8
    public var hiddenAct = "gelu"
    public var layerNormEps: Float = 1e-6
    public var qkvBias = true
    /// Standard deviation for weights trained from scratch. `transformers` defaults to 1e-10,
    /// which starts the ViT dead (measured; see docs/findings.md, initialisation); 0.02 trains.
    public var initializerRange: Float = 0.02

    public init() {}

    public var numPatches: Int { (imageSize / patchSize) * (imageSize / patchSize) }
}

/// The Q-Former's configuration, named as `InstructBlipQFormerConfig`.
public struct QFormerConfig: Codable, Hashable, Sendable {
    public var vocabSize = 1024
    public var hiddenSize = 128
    public var numHiddenLayers = 2
    public var numAttentionHeads = 4
    public var intermediateSize = 512
    public var hiddenAct = "gelu"
    public var hiddenDropoutProb: Float = 0.0
    /// Recorded for compatibility; the fused attention op has no dropout on probabilities.
    public var attentionProbsDropoutProb: Float = 0.0
    public var maxPositionEmbeddings = 128
    public var layerNormEps: Float = 1e-12
    public var padTokenId = 0
    public var crossAttentionFrequency = 2
    /// The vision encoder's width (set from the vision config, as `transformers` does).
    public var encoderHiddenSize = 128
    public var initializerRange: Float = 0.02

    public init() {}
}

/// The language model's configuration, named as `LlamaConfig`.
public struct TextConfig: Codable, Hashable, Sendable {
    public var vocabSize = 1024
    public var hiddenSize = 256
    public var intermediateSize = 704
    public var numHiddenLayers = 6
    public var numAttentionHeads = 4
    public var hiddenAct = "silu"
    public var maxPositionEmbeddings = 256
    public var rmsNormEps: Float = 1e-6
    public var ropeTheta: Float = 10000
    public var bosTokenId = 1
    public var eosTokenId = 2
    public var padTokenId = 0
    public var tieWordEmbeddings = false
    public var attentionBias = false
    public var mlpBias = false
    public var initializerRange: Float = 0.02

    public init() {}

    public var headSize: Int { hiddenSize / numAttentionHeads }
}

/// The whole model's configuration, named as `InstructBlipConfig` with a LLaMA text config.
public struct InstructBlipConfig: Codable, Hashable, Sendable {
    public var visionConfig = VisionConfig()
    public var qformerConfig = QFormerConfig()
    public var textConfig = TextConfig()
    public var numQueryTokens = 16
    /// The placeholder id in `input_ids` that each query output replaces.
    public var imageTokenIndex = 3

    public init() {}

    /// Every way the sizes can contradict each other: the key path at fault and what is wrong.
    public func problems() -> [ConfigProblem] {
        var problems: [ConfigProblem] = []
        func check(_ ok: Bool, _ key: String, _ message: String) { if !ok { problems.append(ConfigProblem(key: key, message: message)) } }
        let v = visionConfig, q = qformerConfig, t = textConfig
        for (section, hidden, heads) in [("vision_config", v.hiddenSize, v.numAttentionHeads),
                                         ("qformer_config", q.hiddenSize, q.numAttentionHeads),
                                         ("text_config", t.hiddenSize, t.numAttentionHeads)] {
            check(hidden > 0 && heads > 0 && hidden % heads == 0, "\(section).num_attention_heads",
                  "\(heads) does not divide \(section).hidden_size = \(hidden)")
        }
        for (key, value) in [("vision_config.num_hidden_layers", v.numHiddenLayers), ("qformer_config.num_hidden_layers", q.numHiddenLayers),
                             ("text_config.num_hidden_layers", t.numHiddenLayers), ("vision_config.intermediate_size", v.intermediateSize),
                             ("qformer_config.intermediate_size", q.intermediateSize), ("text_config.intermediate_size", t.intermediateSize),
                             ("num_query_tokens", numQueryTokens), ("qformer_config.cross_attention_frequency", q.crossAttentionFrequency),
                             ("text_config.vocab_size", t.vocabSize), ("qformer_config.vocab_size", q.vocabSize)] {
            check(value > 0, key, "\(value) must be positive")
        }
        check(v.patchSize > 0 && v.imageSize % max(v.patchSize, 1) == 0, "vision_config.patch_size",
              "\(v.patchSize) does not divide vision_config.image_size = \(v.imageSize)")
        check(t.hiddenSize % max(t.numAttentionHeads, 1) != 0 || t.headSize % 2 == 0, "text_config.num_attention_heads",
              "\(t.numAttentionHeads) gives a head size of \(t.headSize); rotary embeddings need an even one")
        check(!t.tieWordEmbeddings, "text_config.tie_word_embeddings", "true is not supported (Vicuna's head is untied)")
        for (key, name) in [("vision_config.hidden_act", v.hiddenAct), ("qformer_config.hidden_act", q.hiddenAct), ("text_config.hidden_act", t.hiddenAct)] {
            check(Activation(configName: name) != nil, key, "\"\(name)\" is not one of \(Activation.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        check(q.encoderHiddenSize == v.hiddenSize, "qformer_config.encoder_hidden_size",
              "\(q.encoderHiddenSize) differs from vision_config.hidden_size = \(v.hiddenSize)")
        check(imageTokenIndex >= 0 && imageTokenIndex < t.vocabSize, "image_token_index", "\(imageTokenIndex) is outside the text vocabulary")
        return problems
    }
}

/// One inconsistency in a model configuration.
public struct ConfigProblem: Sendable, Equatable, CustomStringConvertible {
    /// The key path at fault, e.g. `text_config.num_attention_heads`.
    public let key: String
    public let message: String
    public var description: String { "\(key) = \(message)" }
}

// MARK: - Reading and writing transformers' config.json

extension InstructBlipConfig {
    /// Reads a `config.json` written by `save_pretrained`; absent keys take `transformers`' defaults
    /// where they matter (for example `rope_parameters.rope_theta`).
    public static func fromHuggingFace(_ data: Data, path: String) throws -> InstructBlipConfig {
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ModelError.badConfig(path, "is not a JSON object")
        }
        guard root["model_type"] as? String == "instructblip" else {
            throw ModelError.badConfig(path, "model_type is \(root["model_type"] ?? "missing"), not instructblip")
        }
        func section(_ key: String) throws -> [String: Any] {
            guard let value = root[key] as? [String: Any] else { throw ModelError.badConfig(path, "has no \(key) object") }
            return value
        }
        let vision = try section("vision_config"), qformer = try section("qformer_config"), text = try section("text_config")
        if let type = text["model_type"] as? String, type != "llama" {
            throw ModelError.badConfig(path, "text_config.model_type is \(type); only a LLaMA (Vicuna) language model is supported")
        }
        var config = InstructBlipConfig()
        var reader = ConfigReader(path: path)
        reader.read(vision, "vision_config", into: &config.visionConfig)
        reader.read(qformer, "qformer_config", into: &config.qformerConfig)
        reader.read(text, "text_config", into: &config.textConfig)
        if let rope = text["rope_parameters"] as? [String: Any], let theta = rope["rope_theta"] as? Double {
            config.textConfig.ropeTheta = Float(theta)
        } else if let theta = text["rope_theta"] as? Double {
            config.textConfig.ropeTheta = Float(theta)
        }
        if let n = root["num_query_tokens"] as? Int { config.numQueryTokens = n }
        if let index = (root["image_token_index"] ?? root["image_token_id"]) as? Int { config.imageTokenIndex = index }
        config.qformerConfig.encoderHiddenSize = config.visionConfig.hiddenSize
        try reader.finish()
        var problems = config.problems().map(\.description)
        if let heads = text["num_key_value_heads"] as? Int, heads != config.textConfig.numAttentionHeads {
            problems.append("text_config.num_key_value_heads = \(heads) differs from num_attention_heads; grouped-query attention is not supported")
        }
        if let headSize = text["head_dim"] as? Int, headSize * config.textConfig.numAttentionHeads != config.textConfig.hiddenSize {
            problems.append("text_config.head_dim = \(headSize) is not hidden_size / num_attention_heads; not supported")
        }
        if !problems.isEmpty { throw ModelError.badConfig(path, problems.joined(separator: "; ")) }
        return config
    }

    /// The `config.json` that `InstructBlipForConditionalGeneration.from_pretrained` reads.
    public func huggingFaceJSON() throws -> Data {
        func snake(_ value: some Encodable) throws -> [String: Any] {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            return try JSONSerialization.jsonObject(with: encoder.encode(value)) as! [String: Any]
        }
        var vision = try snake(visionConfig)
        vision["model_type"] = "instructblip_vision_model"
        var qformer = try snake(qformerConfig)
        qformer["model_type"] = "instructblip_qformer"
        var text = try snake(textConfig)
        text["model_type"] = "llama"
        text["rope_parameters"] = ["rope_type": "default", "rope_theta": Double(textConfig.ropeTheta)]
        text.removeValue(forKey: "rope_theta")
        text["num_key_value_heads"] = textConfig.numAttentionHeads
        let root: [String: Any] = [
            "model_type": "instructblip", "architectures": ["InstructBlipForConditionalGeneration"],
            "vision_config": vision, "qformer_config": qformer, "text_config": text,
            "num_query_tokens": numQueryTokens, "image_token_index": imageTokenIndex,
            "use_decoder_only_language_model": true,
        ]
        return try JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys])
    }
}

/// Copies the keys of one config section that our structs know into them, type-checked.
private struct ConfigReader {
    let path: String
    var errors: [String] = []

    init(path: String) { self.path = path }

    mutating func read<C: Codable>(_ section: [String: Any], _ name: String, into config: inout C) {
        // Start from our defaults, overlay the section's known keys, decode back.
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        guard var merged = (try? JSONSerialization.jsonObject(with: encoder.encode(config))) as? [String: Any] else { return }
        for key in merged.keys {
            if let value = section[key], !(value is NSNull) { merged[key] = value }
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            config = try decoder.decode(C.self, from: JSONSerialization.data(withJSONObject: merged))
        } catch DecodingError.typeMismatch(_, let context) {
            errors.append("\(name).\(context.codingPath.map { $0.stringValue.snakeCased }.joined(separator: ".")) has the wrong type")
        } catch {
            errors.append("\(name) cannot be read (\(error))")
        }
    }

    func finish() throws {
        if !errors.isEmpty { throw ModelError.badConfig(path, errors.joined(separator: "; ")) }
    }
}

extension String {
    /// camelCase to snake_case, as `JSONEncoder.KeyEncodingStrategy.convertToSnakeCase` (config
    /// keys in messages are spelled as the files spell them).
    public var snakeCased: String {
        var out = ""
        for ch in self {
            if ch.isUppercase { out += "_" + ch.lowercased() } else { out.append(ch) }
        }
        return out
    }
}

/// A model folder, adapter or configuration that cannot be used, and why.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case badConfig(String, String)
    case badCheckpoint(String, String)
    case badInputs(String)

    public var description: String {
        switch self {
        case .badConfig(let path, let problem): return "\(path): \(problem)"
        case .badCheckpoint(let path, let problem): return "\(path): \(problem)"
        case .badInputs(let problem): return problem
        }
    }
}
