import Engine
import Foundation

/// Hugging Face folders: `save_pretrained` models (`config.json` + `model.safetensors`) and `peft`
/// LoRA adapters (`adapter_config.json` + `adapter_model.safetensors`).
extension InstructBlip {
    /// Loads a folder written by `InstructBlipForConditionalGeneration.save_pretrained`, by the
    /// parameter names `transformers` uses. Every parameter must be present with its shape.
    public static func load(huggingFace directory: URL) throws -> InstructBlip {
        let configURL = directory.appendingPathComponent("config.json")
        guard let configData = FileManager.default.contents(atPath: configURL.path) else {
            throw ModelError.badCheckpoint(directory.path, "has no config.json; is it a save_pretrained folder?")
        }
        let model = InstructBlip(config: try InstructBlipConfig.fromHuggingFace(configData, path: configURL.path))
        let weightsURL = directory.appendingPathComponent("model.safetensors")
        guard FileManager.default.fileExists(atPath: weightsURL.path) else {
            throw ModelError.badCheckpoint(directory.path, "has no model.safetensors (sharded or .bin checkpoints are not read; re-save with safe_serialization=True)")
        }
        let file = try SafeTensors.read(weightsURL)
        try model.loadBaseWeights(file)
        return model
    }

    /// Copies every base parameter from `file`; the older split `q_bias`/`v_bias` of the vision
    /// attention is accepted in place of the fused `qkv.bias`.
    func loadBaseWeights(_ file: SafeTensors.File) throws {
        var missing: [String] = []
        for tensor in baseParameters {
            let name = tensor.name!
            if let entry = file.entries[name] {
                guard entry.shape == tensor.shape else {
                    throw ModelError.badCheckpoint(file.path, "\(name) has shape \(entry.shape), the config gives \(tensor.shape)")
                }
                tensor.copyValues(from: try file.tensor(name))
            } else if name.hasSuffix(".self_attn.qkv.bias"), let q = file.entries[name.replacingOccurrences(of: "qkv.bias", with: "q_bias")] {
                let d = tensor.count / 3
                guard q.shape == [d] else { throw ModelError.badCheckpoint(file.path, "\(name): q_bias has shape \(q.shape)") }
                let qBias = try file.tensor(name.replacingOccurrences(of: "qkv.bias", with: "q_bias"))
                let vBias = try file.tensor(name.replacingOccurrences(of: "qkv.bias", with: "v_bias"))
                tensor.data.update(from: qBias.data, count: d)
                (tensor.data + d).update(repeating: 0, count: d)
                (tensor.data + 2 * d).update(from: vBias.data, count: d)
            } else {
                missing.append(name)
            }
        }
        if !missing.isEmpty {
            throw ModelError.badCheckpoint(file.path, "lacks \(missing.count) parameters the config needs, e.g. \(missing.prefix(3).joined(separator: ", "))")
        }
    }

    /// Writes `config.json` and `model.safetensors` so that
    /// `InstructBlipForConditionalGeneration.from_pretrained` loads them. LoRA adapters are not
    /// included (save them with `saveAdapter`, or merge them first).
    public func save(huggingFace directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try writeAtomically(config.huggingFaceJSON(), to: directory.appendingPathComponent("config.json"))
        try SafeTensors.write(ParameterSet(baseParameters).byName, metadata: ["format": "pt"],
                              to: directory.appendingPathComponent("model.safetensors"))
    }

    // MARK: peft adapters

    /// peft's key prefix for a model wrapped by `get_peft_model`.
    static let peftPrefix = "base_model.model."

    /// Attaches and loads a `peft` LoRA adapter folder.
    public func loadAdapter(_ directory: URL) throws {
        let configURL = directory.appendingPathComponent("adapter_config.json")
        guard let data = FileManager.default.contents(atPath: configURL.path),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { throw ModelError.badCheckpoint(directory.path, "has no readable adapter_config.json") }
        func fail(_ problem: String) -> ModelError { .badCheckpoint(configURL.path, problem) }
        guard json["peft_type"] as? String == "LORA" else { throw fail("peft_type is \(json["peft_type"] ?? "missing"), not LORA") }
        guard let r = json["r"] as? Int, r > 0 else { throw fail("r is missing or not a positive integer") }
        guard let alpha = json["lora_alpha"] as? Double else { throw fail("lora_alpha is missing") }
        if let bias = json["bias"] as? String, bias != "none" { throw fail("bias = \(bias) is not supported (only \"none\")") }
        if json["fan_in_fan_out"] as? Bool == true { throw fail("fan_in_fan_out = true is not supported") }
        if json["use_dora"] as? Bool == true { throw fail("use_dora = true (DoRA) is not supported, only plain LoRA") }
        for key in ["rank_pattern", "alpha_pattern"] where !((json[key] as? [String: Any])?.isEmpty ?? true) {
            throw fail("\(key) is not supported (one rank and alpha for every target)")
        }
        var lora = LoRAConfig(r: r, loraAlpha: Float(alpha), targetModules: [],
                              loraDropout: Float(json["lora_dropout"] as? Double ?? 0), useRslora: json["use_rslora"] as? Bool ?? false)
        if let list = json["target_modules"] as? [String] {
            lora.targetModules = list
        } else if let pattern = json["target_modules"] as? String {
            lora.targetPattern = pattern
        } else {
            throw fail("target_modules is missing")
        }
        let attached = addLoRA(lora)
        guard !attached.isEmpty else { throw fail("target_modules match no linear layer of this model") }
        let file = try SafeTensors.read(directory.appendingPathComponent("adapter_model.safetensors"))
        for linear in linears {
            guard let adapter = linear.lora else { continue }
            for tensor in [adapter.a, adapter.b] {
                let key = InstructBlip.peftPrefix + tensor.name!
                guard let entry = file.entries[key] else { throw ModelError.badCheckpoint(file.path, "lacks \(key)") }
                guard entry.shape == tensor.shape else {
                    throw ModelError.badCheckpoint(file.path, "\(key) has shape \(entry.shape), expected \(tensor.shape)")
                }
                tensor.copyValues(from: try file.tensor(key))
            }
        }
    }

    /// Writes the LoRA adapters as a `peft` folder (`PeftModel.from_pretrained` reads it).
    public func saveAdapter(_ directory: URL) throws {
        guard let lora = loraConfig else { preconditionFailure("no LoRA adapters to save") }
        let adapters = linears.compactMap(\.lora)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var json: [String: Any] = [
            "peft_type": "LORA", "r": lora.r, "lora_alpha": Double(lora.loraAlpha), "lora_dropout": Double(lora.loraDropout),
            "use_rslora": lora.useRslora, "bias": "none", "fan_in_fan_out": false, "task_type": NSNull(),
            "base_model_name_or_path": NSNull(), "inference_mode": true,
        ]
        json["target_modules"] = lora.targetPattern.map { $0 as Any } ?? lora.targetModules
        try writeAtomically(JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys]),
                            to: directory.appendingPathComponent("adapter_config.json"))
        var tensors: [String: Tensor] = [:]
        for adapter in adapters { for t in [adapter.a, adapter.b] { tensors[InstructBlip.peftPrefix + t.name!] = t } }
        try SafeTensors.write(tensors, metadata: ["format": "pt"], to: directory.appendingPathComponent("adapter_model.safetensors"))
    }
}
