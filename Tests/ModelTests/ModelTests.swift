import Engine
import Foundation
@testable import Model
import Testing

/// A model small enough for debug-build tests.
func tinyConfig() -> InstructBlipConfig {
    var config = InstructBlipConfig()
    config.visionConfig.hiddenSize = 16
    config.visionConfig.intermediateSize = 24
    config.visionConfig.numHiddenLayers = 1
    config.visionConfig.numAttentionHeads = 2
    config.visionConfig.imageSize = 8
    config.visionConfig.patchSize = 4
    config.qformerConfig.hiddenSize = 16
    config.qformerConfig.intermediateSize = 24
    config.qformerConfig.numAttentionHeads = 2
    config.qformerConfig.vocabSize = 40
    config.qformerConfig.encoderHiddenSize = 16
    config.textConfig.hiddenSize = 16
    config.textConfig.intermediateSize = 24
    config.textConfig.numHiddenLayers = 3
    config.textConfig.numAttentionHeads = 2
    config.textConfig.vocabSize = 40
    config.numQueryTokens = 3
    return config
}

func tinyInputs(_ config: InstructBlipConfig, batch: Int = 2, seed: UInt64 = 1) -> ModelInputs {
    var rng = SeededGenerator(seed: seed)
    let q = config.numQueryTokens, t = q + 6
    var ids: [Int32] = []
    for _ in 0..<batch { ids += [Int32](repeating: 3, count: q) + (0..<6).map { _ in Int32(4 + rng.next() % 36) } }
    let labels = ids.enumerated().map { $0.offset % t < q + 3 ? ignoreIndex : $0.element }
    return ModelInputs(pixelValues: Tensor.randomNormal([batch, 3, 8, 8], std: 1, using: &rng), inputIds: ids,
                       attentionMask: [Int32](repeating: 1, count: ids.count),
                       qformerInputIds: (0..<(batch * 4)).map { _ in Int32(1 + rng.next() % 39) },
                       qformerAttentionMask: [Int32](repeating: 1, count: batch * 4), labels: labels)
}

@Suite struct LoRATests {
    @Test func targetsMatchByNameOrDottedSuffixAsPeft() {
        let lora = LoRAConfig(r: 2, loraAlpha: 4, targetModules: ["q_proj", "self_attn.v_proj"])
        #expect(lora.targets("language_model.model.layers.0.self_attn.q_proj"))
        #expect(lora.targets("q_proj"))
        #expect(lora.targets("language_model.model.layers.3.self_attn.v_proj"))
        #expect(!lora.targets("language_model.model.layers.0.self_attn.k_proj"))
        #expect(!lora.targets("language_model.model.layers.0.self_attn.xq_proj"))
        let pattern = LoRAConfig(r: 2, loraAlpha: 4, targetModules: [], targetPattern: #".*layers\.1\..*(q|v)_proj"#)
        #expect(pattern.targets("language_model.model.layers.1.self_attn.v_proj"))
        #expect(!pattern.targets("language_model.model.layers.0.self_attn.v_proj"))
        #expect(LoRAConfig(r: 4, loraAlpha: 8, targetModules: [], useRslora: true).scaling == 4)
        #expect(LoRAConfig(r: 4, loraAlpha: 8, targetModules: []).scaling == 2)
    }

    @Test func freshAdaptersLeaveTheModelUnchangedAndMergingKeepsItsOutputs() throws {
        let model = InstructBlip(config: tinyConfig(), seed: 3)
        let inputs = tinyInputs(model.config)
        let before = try model.forward(inputs, .evaluation()).logits.values
        let attached = model.addLoRA(LoRAConfig(r: 2, loraAlpha: 8, targetModules: ["q_proj", "k_proj", "v_proj", "o_proj"]))
        #expect(attached.count == 12, "four projections in each of three layers")
        let adapter = try #require(model.linears.first { $0.name == "language_model.model.layers.0.self_attn.q_proj" }?.lora)
        #expect(adapter.b.values.allSatisfy { $0 == 0 })
        #expect(adapter.a.values.allSatisfy { abs($0) <= 1 / Float(16).squareRoot() })
        #expect(try model.forward(inputs, .evaluation()).logits.values == before)

        for linear in model.linears { if let lora = linear.lora { lora.b.copyValues(from: random(lora.b.shape, seed: 9)) } }
        let adapted = try model.forward(inputs, .evaluation()).logits.values
        #expect(maxDifference(adapted, before) > 1e-3, "a trained adapter changes the outputs")
        let weight = model.linears[0].weight.values
        model.mergeLoRA()
        #expect(maxDifference(try model.forward(inputs, .evaluation()).logits.values, adapted) <= 1e-5)
        model.unmergeLoRA()
        #expect(maxDifference(model.linears[0].weight.values, weight) <= 1e-6)
        #expect(maxDifference(try model.forward(inputs, .evaluation()).logits.values, adapted) <= 1e-5)
    }

    @Test func paperFreezingTrainsVisionQFormerLastLayersAndAdapters() {
        let model = InstructBlip(config: tinyConfig())
        model.addLoRA(LoRAConfig(r: 2, loraAlpha: 4, targetModules: ["q_proj", "k_proj", "v_proj", "o_proj"]))
        let counts = model.setTrainable(.paper(lastLayers: 2, of: 3))
        let trainable = Set(model.parameters.trainable.map { $0.name! })
        #expect(trainable.contains("vision_model.encoder.layers.0.mlp.fc1.weight"))
        #expect(trainable.contains("query_tokens") && trainable.contains("language_projection.weight"))
        #expect(trainable.contains("qformer.encoder.layer.0.crossattention.attention.key.weight"))
        #expect(!trainable.contains("language_model.model.layers.0.self_attn.q_proj.weight"))
        #expect(trainable.contains("language_model.model.layers.0.self_attn.q_proj.lora_A.weight"))
        #expect(trainable.contains("language_model.model.layers.1.mlp.gate_proj.weight"))
        #expect(!trainable.contains("language_model.model.embed_tokens.weight") && !trainable.contains("language_model.lm_head.weight"))
        let expected = model.parameters.tensors.filter { trainable.contains($0.name!) }.reduce(0) { $0 + $1.count }
        #expect(counts.trainable == expected && counts.total == model.parameters.count && counts.trainable < counts.total)
    }
}

@Suite struct CheckpointTests {
    func temporaryFolder(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("repro-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    }

    @Test func savedModelAndAdapterLoadBackIdentically() throws {
        let folder = temporaryFolder("save")
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = InstructBlip(config: tinyConfig(), seed: 5)
        model.addLoRA(LoRAConfig(r: 2, loraAlpha: 4, targetModules: ["v_proj"]))
        for linear in model.linears { if let lora = linear.lora { lora.b.copyValues(from: random(lora.b.shape, seed: 2)) } }
        try model.save(huggingFace: folder)
        try model.saveAdapter(folder.appendingPathComponent("adapter"))

        let loaded = try InstructBlip.load(huggingFace: folder)
        try loaded.loadAdapter(folder.appendingPathComponent("adapter"))
        #expect(loaded.config == model.config)
        #expect(loaded.parameters.names == model.parameters.names)
        for (a, b) in zip(loaded.parameters.tensors, model.parameters.tensors) { #expect(a.values == b.values, "\(a.name!)") }
        let inputs = tinyInputs(model.config)
        #expect(try loaded.forward(inputs, .evaluation()).logits.values == model.forward(inputs, .evaluation()).logits.values)
    }

    @Test func damagedFoldersSayWhatIsWrong() throws {
        let folder = temporaryFolder("damaged")
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(throws: ModelError.self) { try InstructBlip.load(huggingFace: folder) }
        let model = InstructBlip(config: tinyConfig())
        try model.save(huggingFace: folder)
        var weights = model.parameters.byName
        weights.removeValue(forKey: "query_tokens")
        try SafeTensors.write(weights, to: folder.appendingPathComponent("model.safetensors"))
        do {
            _ = try InstructBlip.load(huggingFace: folder)
            Issue.record("a checkpoint without query_tokens loaded")
        } catch let error as ModelError {
            #expect(error.description.contains("lacks 1 parameters the config needs, e.g. query_tokens"), "\(error)")
        }
        var config = try JSONSerialization.jsonObject(with: model.config.huggingFaceJSON()) as! [String: Any]
        var text = config["text_config"] as! [String: Any]
        text["num_attention_heads"] = 3
        config["text_config"] = text
        try JSONSerialization.data(withJSONObject: config).write(to: folder.appendingPathComponent("config.json"))
        do {
            _ = try InstructBlip.load(huggingFace: folder)
            Issue.record("a config whose heads do not divide the width loaded")
        } catch let error as ModelError {
            #expect(error.description.contains("text_config.num_attention_heads = 3 does not divide text_config.hidden_size = 16"), "\(error)")
        }
    }
}

@Suite struct GenerationTests {
    /// Greedy decoding by re-running the whole sequence each step: the reference for the KV cache.
    func greedyWithoutCache(_ model: InstructBlip, _ request: GenerationRequest, steps: Int) throws -> [Int32] {
        var ids = request.promptIds
        var generated: [Int32] = []
        for _ in 0..<steps {
            let inputs = ModelInputs(pixelValues: reshape(request.pixels!, [1, 3, 8, 8]), inputIds: ids,
                                     attentionMask: [Int32](repeating: 1, count: ids.count), qformerInputIds: request.qformerIds,
                                     qformerAttentionMask: [Int32](repeating: 1, count: request.qformerIds.count))
            let logits = try Autodiff.withoutGradients { try model.forward(inputs, .evaluation()).logits }
            let v = model.config.textConfig.vocabSize
            let last = Array(logits.values.suffix(v))
            let next = Int32(last.indices.max { last[$0] < last[$1] }!)
            if next == Int32(model.config.textConfig.eosTokenId) { break }
            generated.append(next)
            ids.append(next)
        }
        return generated
    }

    func requests(_ config: InstructBlipConfig) -> [GenerationRequest] {
        var rng = SeededGenerator(seed: 4)
        return [[5, 6, 7], [8, 9, 10, 11, 12]].map { prompt in
            GenerationRequest(pixels: Tensor.randomNormal([3, 8, 8], std: 1, using: &rng),
                              promptIds: [Int32](repeating: 3, count: config.numQueryTokens) + prompt, qformerIds: [5, 6, 7])
        }
    }

    @Test func cachedGreedyDecodingEqualsRecomputingAndBatchingDoesNotChangeIt() throws {
        let model = InstructBlip(config: tinyConfig(), seed: 8)
        let requests = requests(model.config)
        let options = GenerationOptions(maxNewTokens: 6)
        let batched = try model.generate(requests, options: options)
        for (request, output) in zip(requests, batched) {
            #expect(output == (try greedyWithoutCache(model, request, steps: 6)))
            #expect(try model.generate([request], options: options)[0] == output, "left padding does not change the result")
            #expect(output.count <= 6)
        }
    }

    @Test func beamSearchIsDeterministicAndOneBeamIsGreedy() throws {
        let model = InstructBlip(config: tinyConfig(), seed: 8)
        let request = requests(model.config)[1]
        let greedy = try model.generate([request], options: GenerationOptions(maxNewTokens: 5))
        #expect(try model.generate([request], options: GenerationOptions(maxNewTokens: 5, beams: 1)) == greedy)
        let beams = try model.generate([request], options: GenerationOptions(maxNewTokens: 5, beams: 3))
        #expect(beams == (try model.generate([request], options: GenerationOptions(maxNewTokens: 5, beams: 3))))
        #expect(beams[0].count <= 5)
    }

    /// A continuation's score is its log-probability after the prompt in a teacher-forced forward pass
    /// of prompt + continuation (the log-softmax of each of its tokens, summed): for one token and for
    /// several, in a left-padded batch, beside greedy decoding and beam search, whose replies it leaves alone.
    @Test func scoredContinuationsAreTheirTeacherForcedLogProbabilities() throws {
        let model = InstructBlip(config: tinyConfig(), seed: 8)
        let requests = requests(model.config), v = model.config.textConfig.vocabSize
        let continuations: [[Int32]] = [[7], [9, 4], [12, 30, 5]]
        func teacherForced(_ request: GenerationRequest, _ continuation: [Int32]) throws -> Float {
            let ids = request.promptIds + continuation
            let inputs = ModelInputs(pixelValues: reshape(request.pixels!, [1, 3, 8, 8]), inputIds: ids,
                                     attentionMask: [Int32](repeating: 1, count: ids.count), qformerInputIds: request.qformerIds,
                                     qformerAttentionMask: [Int32](repeating: 1, count: request.qformerIds.count))
            let logits = try Autodiff.withoutGradients { try model.forward(inputs, .evaluation()).logits.values }
            return continuation.enumerated().reduce(0) { total, token in
                let row = Array(logits[((request.promptIds.count - 1 + token.offset) * v)...].prefix(v))
                let top = row.max()!
                return total + row[Int(token.element)] - (top + log(row.reduce(0) { $0 + exp($1 - top) }))
            }
        }
        let expected = try requests.map { request in try continuations.map { try teacherForced(request, $0) } }
        #expect(Set(expected.joined()).count == requests.count * continuations.count, "equal scores would let a mix-up pass")
        for beams in [1, 3] {
            let options = GenerationOptions(maxNewTokens: 4, beams: beams)
            let (replies, scores) = try model.generate(requests, options: options, scoring: continuations)
            #expect(replies == (try model.generate(requests, options: options)), "beams \(beams)")
            for (row, want) in zip(scores, expected) {
                for (score, reference) in zip(row, want) { #expect(abs(score - reference) < 1e-4, "beams \(beams): \(score) against \(reference)") }
            }
        }
    }

    /// A request's scores do not depend on the instructions of the others in its batch: the Q-Former
    /// reads its instruction from position 0, as in training, however long the batch's longest is.
    @Test func instructionsOfOtherLengthsLeaveARequestAlone() throws {
        let model = InstructBlip(config: tinyConfig(), seed: 8)
        var rng = SeededGenerator(seed: 12)
        // Position embeddings as large as the words', so that a shifted position shows in the scores.
        let positions = try #require(model.parameters["qformer.embeddings.position_embeddings.weight"])
        positions.data.update(from: Tensor.randomNormal(positions.shape, std: 1, using: &rng).data, count: positions.count)
        let requests = [[5, 6], [7, 8, 9, 10, 11, 12], [13]].map { instruction in
            GenerationRequest(pixels: Tensor.randomNormal([3, 8, 8], std: 1, using: &rng),
                              promptIds: [Int32](repeating: 3, count: model.config.numQueryTokens) + [5, 6], qformerIds: instruction)
        }
        let options = GenerationOptions(maxNewTokens: 3)
        let batched = try model.generate(requests, options: options, scoring: [[7], [9]]).logProbabilities
        for (request, scores) in zip(requests, batched) {
            let alone = try model.generate([request], options: options, scoring: [[7], [9]]).logProbabilities[0]
            for (a, b) in zip(scores, alone) { #expect(abs(a - b) < 1e-4, "\(request.qformerIds): \(a) batched against \(b) alone") }
        }
    }

    /// Requests that share one image tensor (the blind control's blank) have it encoded once; every
    /// reply and score keeps its bits, as with a copy of the image per request.
    @Test func sharedImagesAreEncodedOnceWithTheSameBits() throws {
        let model = InstructBlip(config: tinyConfig(), seed: 8)
        var rng = SeededGenerator(seed: 11)
        let images = (0..<3).map { _ in Tensor.randomNormal([3, 8, 8], std: 1, using: &rng) }
        let layout = [0, 0, 1, 0, 1, 2]
        func requests(_ pixels: (Int) -> Tensor) -> [GenerationRequest] {
            layout.enumerated().map { row, image in
                GenerationRequest(pixels: pixels(image), promptIds: [Int32](repeating: 3, count: model.config.numQueryTokens) + [5, Int32(6 + row)],
                                  qformerIds: [5, Int32(6 + row), 7])
            }
        }
        let options = GenerationOptions(maxNewTokens: 5)
        let shared = try model.generate(requests { images[$0] }, options: options, scoring: [[7], [9, 4]])
        let copied = try model.generate(requests { Tensor(shape: images[$0].shape, values: images[$0].values) }, options: options, scoring: [[7], [9, 4]])
        #expect(shared.replies == copied.replies)
        #expect(shared.logProbabilities == copied.logProbabilities)
        #expect(Set(shared.logProbabilities.map { $0[1] }).count == layout.count, "rows that share an image differ by their prompts")
    }

    /// With every logit equal, argmax picks id 0, here end of sequence: decoding stops at once unless a
    /// minimum length holds it back, and then stops exactly there.
    @Test func minimumLengthHoldsEndOfSequenceBack() throws {
        var config = tinyConfig()
        config.textConfig.eosTokenId = 0
        let model = InstructBlip(config: config, seed: 8)
        let head = try #require(model.parameters["language_model.lm_head.weight"])
        head.data.update(repeating: 0, count: head.count)
        let requests = requests(config)
        #expect(try model.generate(requests, options: GenerationOptions(maxNewTokens: 6)) == [[], []])
        #expect(try model.generate(requests, options: GenerationOptions(maxNewTokens: 6, minNewTokens: 4)) == [[1, 1, 1, 1], [1, 1, 1, 1]])
    }

    @Test func generationKeepsToTheTokenizersVocabulary() throws {
        let model = InstructBlip(config: tinyConfig(), seed: 8)
        for beams in [1, 3] {
            let outputs = try model.generate(requests(model.config), options: GenerationOptions(maxNewTokens: 8, beams: beams, vocabularyLimit: 12))
            #expect(outputs.joined().allSatisfy { $0 < 12 }, "beams \(beams)")
        }
    }
}

func random(_ shape: [Int], seed: UInt64) -> Tensor {
    var rng = SeededGenerator(seed: seed)
    return Tensor.randomNormal(shape, std: 0.5, using: &rng)
}

/// The vision stage's heads: what each reads, and the cell each patch answers for.
@Suite struct VisionProbeTests {
    @Test func patchesAnswerForTheCellHoldingMostOfThem() {
        var vision = VisionConfig()
        (vision.imageSize, vision.patchSize) = (96, 16)
        // Cells of 32 pixels on 16-pixel patches: each cell is a 2x2 block of patches.
        let aligned = VisionProbe(vision: vision, heads: [], seed: 0).patchCells
        #expect(aligned == (0..<36).map { patch in (patch / 6 / 2) * 3 + (patch % 6) / 2 })
        // Cells of 21.3 pixels on 8-pixel patches: patch 2 (pixels 16-24) lies mostly in the first cell.
        (vision.imageSize, vision.patchSize) = (64, 8)
        let straddling = VisionProbe(vision: vision, heads: [], seed: 0).patchCells
        #expect(Array(straddling.prefix(8)) == [0, 0, 0, 1, 1, 2, 2, 2])
        #expect(straddling[8 * 7] == 6 && straddling.count == 64)
    }

    @Test func eachHeadGivesLogitsPerCellPerPatchOrPerSlot() {
        let config = tinyConfig()  // 8x8 images in 4x4 patches: 4 patches
        let model = InstructBlip(config: config, seed: 1)
        let probe = VisionProbe(vision: config.visionConfig, heads: [
            .init(name: "cell", classes: 5, reads: .cell), .init(name: "patch", classes: 9, reads: .patch),
            .init(name: "slots", classes: 7, reads: .classToken(slots: 3)),
        ], seed: 2)
        var rng = SeededGenerator(seed: 3)
        let logits = probe.logits(model, pixels: Tensor.randomNormal([2, 3, 8, 8], std: 1, using: &rng), .evaluation())
        #expect(logits.map(\.shape) == [[2 * 9, 5], [2 * 4, 9], [2 * 3, 7]])
    }
}
