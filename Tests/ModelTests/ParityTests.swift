import Engine
import Foundation
@testable import Model
import Testing

/// Our InstructBLIP against `transformers` (and `peft`) on tiny models made by
/// tools/make_hf_fixtures.py: same logits, loss and gradients from the same checkpoint.
@Suite struct ParityTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    @Test(arguments: ["cross_every_layer", "padded", "lora_paper"])
    func matchesTransformers(case name: String) throws {
        let folder = Self.fixtures.appendingPathComponent(name)
        let model = try InstructBlip.load(huggingFace: folder.appendingPathComponent("model"))
        let adapter = folder.appendingPathComponent("adapter")
        if FileManager.default.fileExists(atPath: adapter.path) { try model.loadAdapter(adapter) }
        let expected = try SafeTensors.read(folder.appendingPathComponent("expected.safetensors"))
        let trains = try #require(TrainableParts(spec: expected.metadata["trains"] ?? "", layers: model.config.textConfig.numHiddenLayers))
        model.setTrainable(trains)
        let inputs = try Parity.inputs(from: SafeTensors.read(folder.appendingPathComponent("inputs.safetensors")))

        let outputs = try Parity.run(model, inputs)

        let logits = try expected.tensor("logits")
        #expect(outputs["logits"]!.shape == logits.shape)
        #expect(maxDifference(outputs["logits"]!.values, logits.values) <= 1e-4, "logits")
        let loss = try expected.tensor("loss").scalar
        #expect(abs(outputs["loss"]!.scalar - loss) <= 1e-5 * abs(loss), "loss \(outputs["loss"]!.scalar) against \(loss)")
        // The same parameters train on both sides (freezing and LoRA placement), with the same gradients.
        let expectedGradients = Set(expected.names.filter { $0.hasPrefix("grad.") })
        #expect(Set(outputs.keys.filter { $0.hasPrefix("grad.") }) == expectedGradients)
        for name in expectedGradients.sorted() {
            guard let ours = outputs[name] else { continue }
            let theirs = try expected.tensor(name)
            // Key biases have an exactly zero gradient (softmax ignores a shift shared by all keys), so
            // both sides hold rounding noise near 1e-9: the floor keeps the relative test meaningful.
            let scale = max(theirs.values.map(abs).max() ?? 0, 1e-4)
            #expect(maxDifference(ours.values, theirs.values) <= 1e-3 * scale, "\(name): scale \(scale)")
        }
    }
}

func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "comparing \(a.count) values with \(b.count)")
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}
