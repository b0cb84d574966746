import ArgumentParser
import Foundation
import Model

/// Model folders: fresh models in the layout `transformers` reads.
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Creates model folders in the Hugging Face layout.",
        subcommands: [ModelInit.self])
}

struct ModelInit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Writes a freshly initialised InstructBLIP (config.json + model.safetensors) that transformers can load.",
        discussion: "Without --config the default scale model is used; with it, the sizes of an InstructBLIP config.json (LLaMA text config).")

    @Option(help: "Folder to write.") var output: String
    @Option(help: "An InstructBLIP config.json to take the sizes from.") var config: String?
    @Option(help: "Seed of the initial weights.") var seed: UInt64 = 0

    func run() throws {
        var modelConfig = InstructBlipConfig()
        if let config {
            guard let data = FileManager.default.contents(atPath: config) else {
                throw ValidationError("--config \(config): no such file")
            }
            modelConfig = try InstructBlipConfig.fromHuggingFace(data, path: config)
        }
        let model = InstructBlip(config: modelConfig, seed: seed)
        try model.save(huggingFace: URL(fileURLWithPath: output))
        print("\(model.parameters.count) parameters -> \(output)")
    }
}
