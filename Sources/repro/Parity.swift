import ArgumentParser
import Engine
import Foundation
import Model

/// Runs our model on inputs saved from `transformers`, for side-by-side comparison.
struct ParityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parity",
        abstract: "Runs forward and backward on a Hugging Face InstructBLIP folder and writes logits, loss and gradients.",
        discussion: """
            --model is a save_pretrained folder (config.json + model.safetensors) of \
            InstructBlipForConditionalGeneration with a LLaMA text config; --adapter a peft LoRA folder. \
            --inputs is a safetensors file with pixel_values, input_ids (beginning with num_query_tokens \
            image tokens), attention_mask, qformer_input_ids, qformer_attention_mask and labels, as \
            transformers names them. --output receives logits, loss and grad.<name> for every trainable \
            parameter.

            tools/check_hf_parity.py runs transformers on the same files and compares.
            """)

    @Option(help: "The save_pretrained folder.") var model: String
    @Option(help: "A peft LoRA adapter folder to load on top.") var adapter: String?
    @Option(help: "The inputs (safetensors).") var inputs: String
    @Option(help: "Where to write the outputs (safetensors).") var output: String
    @Option(help: "What trains: all, adapters or paper:N (vision, Q-Former and the last N LM layers). Default: all, or adapters with --adapter.")
    var train: String?
    @Option(help: "Also write the loaded model (and adapter, in adapter/) back out with repro's writer, to check that transformers reads it.")
    var save: String?

    func run() throws {
        let model = try InstructBlip.load(huggingFace: URL(fileURLWithPath: self.model))
        if let adapter { try model.loadAdapter(URL(fileURLWithPath: adapter)) }
        let spec = train ?? (adapter == nil ? "all" : "adapters")
        guard let parts = TrainableParts(spec: spec, layers: model.config.textConfig.numHiddenLayers) else {
            throw ValidationError("--train \(spec): expected all, adapters or paper:N")
        }
        if let save {
            let folder = URL(fileURLWithPath: save)
            try model.save(huggingFace: folder)
            if model.loraConfig != nil { try model.saveAdapter(folder.appendingPathComponent("adapter")) }
        }
        let counts = model.setTrainable(parts)
        let outputs = try Parity.run(model, Parity.inputs(from: SafeTensors.read(URL(fileURLWithPath: inputs))))
        try SafeTensors.write(outputs, metadata: ["trains": spec], to: URL(fileURLWithPath: output))
        let loss = outputs["loss"].map { String(format: "loss %.6f, ", $0.scalar) } ?? ""
        print("\(loss)\(outputs.count - (outputs["loss"] == nil ? 1 : 2)) gradients (\(counts.trainable) of \(counts.total) parameters train) -> \(output)")
    }
}
