import Engine
import Testing

/// Forward values and input gradients against PyTorch and `transformers`
/// (Fixtures/ops.safetensors, written by tools/make_engine_fixtures.py).
@Suite struct ReferenceTests {
    let file: SafeTensors.File
    init() throws { file = try fixture("ops") }

    /// Runs `op` on the fixture's inputs (made trainable), back-propagates the fixture's probe,
    /// and compares the output and every input gradient with PyTorch's.
    func compare(_ prefix: String, inputs names: [String], tolerance: Float = 2e-5,
                 sourceLocation: SourceLocation = #_sourceLocation, _ op: ([Tensor]) -> Tensor) throws {
        let inputs = try names.map { name -> Tensor in
            let t = try file.tensor("\(prefix).\(name)")
            t.requiresGrad = true
            return t
        }
        let output = op(inputs)
        let expected = try file.tensor("\(prefix).output")
        #expect(output.shape == expected.shape, "\(prefix) shape", sourceLocation: sourceLocation)
        #expect(maxDifference(output.values, expected.values) <= tolerance, "\(prefix) output", sourceLocation: sourceLocation)
        sum(output * (try file.tensor("\(prefix).probe"))).backward()
        for (name, input) in zip(names, inputs) {
            let grad = try file.tensor("\(prefix).grad.\(name)")
            #expect(maxDifference(input.gradValues, grad.values) <= tolerance, "\(prefix) gradient of \(name)",
                    sourceLocation: sourceLocation)
        }
    }

    func integers(_ name: String) throws -> [Int32] {
        try file.tensor(name).values.map { Int32($0) }
    }

    @Test func layerNormMatchesTorch() throws {
        try compare("layer_norm", inputs: ["x", "weight", "bias"]) { layerNorm($0[0], weight: $0[1], bias: $0[2], eps: 1e-6) }
    }

    @Test func rmsNormMatchesLlama() throws {
        try compare("rms_norm", inputs: ["x", "weight"]) { rmsNorm($0[0], weight: $0[1], eps: 1e-6) }
    }

    @Test(arguments: Activation.allCases)
    func activationMatchesTorch(kind: Activation) throws {
        try compare("activation.\(kind.rawValue)", inputs: ["x"]) { activation($0[0], kind) }
    }

    @Test func swigluMatchesTorch() throws {
        try compare("swiglu", inputs: ["gate", "up"]) { swiglu(gate: $0[0], up: $0[1]) }
    }

    @Test func maskedSoftmaxMatchesTorch() throws {
        let mask = try file.tensor("softmax.mask")
        try compare("softmax", inputs: ["x"]) { softmax($0[0], mask: mask) }
    }

    @Test func causalAttentionWithPaddingMatchesTorch() throws {
        let keyMask = try integers("attention_causal.key_mask")
        try compare("attention_causal", inputs: ["q", "k", "v"]) {
            attention(query: $0[0], key: $0[1], value: $0[2], causal: true, keyMask: keyMask)
        }
    }

    @Test func crossAttentionMatchesTorch() throws {
        try compare("attention_cross", inputs: ["q", "k", "v"]) { attention(query: $0[0], key: $0[1], value: $0[2]) }
    }

    @Test func rotaryMatchesTransformers() throws {
        let positions = try integers("rotary.positions")
        try compare("rotary", inputs: ["x"]) { rotaryEmbedding($0[0], positions: positions, theta: 10000) }
    }

    @Test func crossEntropyMatchesTorch() throws {
        let targets = try integers("cross_entropy_mean.targets")
        try compare("cross_entropy_mean", inputs: ["logits"]) { crossEntropy($0[0], targets: targets) }
        try compare("cross_entropy_sum", inputs: ["logits"], tolerance: 1e-4) { crossEntropy($0[0], targets: targets, reduction: .sum) }
    }

    @Test func patchEmbeddingMatchesConv2d() throws {
        try compare("patch_embedding", inputs: ["images", "weight", "bias"], tolerance: 1e-4) {
            patchEmbedding($0[0], weight: $0[1], bias: $0[2])
        }
    }
}
