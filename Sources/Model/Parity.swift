import Engine

/// One forward and backward pass on inputs named as `transformers` names them, with outputs named
/// so that they can be compared with what `transformers` computes (`repro parity`, the tests).
public enum Parity {
    /// Reads `pixel_values`, `input_ids`, `attention_mask`, `qformer_input_ids`,
    /// `qformer_attention_mask` and (optionally) `labels`; the masks default to all ones.
    public static func inputs(from file: SafeTensors.File) throws -> ModelInputs {
        func ids(_ name: String) throws -> [Int32] { try file.integers(name).values.map { Int32(truncatingIfNeeded: $0) } }
        let pixels = try file.tensor("pixel_values")
        let inputIds = try ids("input_ids"), qformerIds = try ids("qformer_input_ids")
        let has = { (name: String) in file.entries[name] != nil }
        return ModelInputs(
            pixelValues: pixels, inputIds: inputIds,
            attentionMask: has("attention_mask") ? try ids("attention_mask") : [Int32](repeating: 1, count: inputIds.count),
            qformerInputIds: qformerIds,
            qformerAttentionMask: has("qformer_attention_mask") ? try ids("qformer_attention_mask") : [Int32](repeating: 1, count: qformerIds.count),
            labels: has("labels") ? try ids("labels") : nil)
    }

    /// `logits`, `loss` (when labels are given) and `grad.<name>` of every trainable parameter.
    public static func run(_ model: InstructBlip, _ inputs: ModelInputs) throws -> [String: Tensor] {
        let (logits, loss) = try model.forward(inputs, .evaluation())
        var outputs: [String: Tensor] = ["logits": logits.detachedCopy()]
        guard let loss else { return outputs }
        outputs["loss"] = Tensor(shape: [1], values: [loss.scalar])
        loss.backward()
        for parameter in model.parameters.trainable {
            outputs["grad.\(parameter.name!)"] = Tensor(shape: parameter.shape, values: parameter.gradValues)
        }
        return outputs
    }
}

extension TrainableParts {
    /// Parses `all`, `adapters`, `paper:N` (the paper's setting with the last N layers), or a
    /// `+`-joined list of components: `vision`, `qformer` (with query tokens and projection),
    /// `language` (the whole language model).
    public init?(spec: String, layers: Int) {
        switch spec {
        case "all": self = .all(layers: layers)
        case "adapters": self = .adaptersOnly
        case _ where spec.hasPrefix("paper:"):
            guard let n = Int(spec.dropFirst(6)), n >= 0 else { return nil }
            self = .paper(lastLayers: n, of: layers)
        default:
            var parts = TrainableParts.adaptersOnly
            for component in spec.split(separator: "+") {
                switch component {
                case "vision": parts.vision = true
                case "qformer": parts.qformer = true
                case "language":
                    parts.languageModelLayers = 0..<layers
                    parts.languageModelEmbeddings = true
                    parts.languageModelHead = true
                default: return nil
                }
            }
            self = parts
        }
    }
}
