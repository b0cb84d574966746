import Data
import Engine
import Foundation
import Study

/// A data recipe's corpora and tokenizer. The corpora are regenerated (they take a fraction of a
/// second); the tokenizer is trained once per recipe and kept in the workspace, so that every model
/// trained on a recipe meets the same vocabulary.
public final class DataBundle: @unchecked Sendable {
    public let recipe: DataRecipe
    public let tokenizer: Tokenizer
    public private(set) lazy var pretraining = PretrainingCorpus(recipe: recipe)
    public private(set) lazy var finetune = FinetuneSet(recipe: recipe)
    public private(set) lazy var benchmark = Benchmark(recipe: recipe)
    /// The positive control's rows: the forms the instruct stage trains on, so that they teach the base model nothing new.
    public private(set) lazy var retentionControl = RetentionControlSet(recipe: recipe, forms: RetentionControlSet.instructionForms)

    /// Loads the recipe's tokenizer from the workspace, training and saving it the first time.
    public init(recipe: DataRecipe, workspace: Workspace) throws {
        self.recipe = recipe
        let hash = sha256Hex(recipe.canonicalJSON)
        let folder = workspace.dataFolder(recipeHash: hash)
        let file = folder.appendingPathComponent("tokenizer.json")
        if FileManager.default.fileExists(atPath: file.path) {
            tokenizer = try Tokenizer.load(from: file)
        } else {
            let corpus = PretrainingCorpus(recipe: recipe)
            tokenizer = Tokenizer.train(on: corpus.samples.flatMap { [$0.query, $0.response] }, vocabularySize: recipe.vocabularySize)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try writeAtomically(JSONEncoder().encode(recipe), to: folder.appendingPathComponent("recipe.json"))
            try tokenizer.save(to: file)
            self.pretraining = corpus
        }
    }

    /// The rows a fine-tuning study trains on and is tested on (`train.rows`).
    func finetuneRows(_ rows: FinetuneRows) -> (train: [Example], test: [Example]) {
        switch rows {
        case .finetune: (finetune.train.map(Example.init), finetune.test.map(Example.init))
        case .pretraining: (retentionControl.train.map(\.example), retentionControl.test.map(\.example))
        }
    }

    /// The normalised pixels `[3, H, W]` of an image.
    public func pixels(_ image: ImageSource) throws -> Tensor {
        ImageProcessor.pixelValues(try image.image(recipe: recipe))
    }

    /// The pixels of a scene.
    public func pixels(_ scene: SceneKey) -> Tensor {
        ImageProcessor.pixelValues(recipe.image(of: scene))
    }

    /// The pixels of a batch of images, `[B, 3, H, W]`.
    public func pixels(_ images: [ImageSource]) throws -> Tensor { try batch(images, pixels) }

    /// The pixels of a batch of scenes, `[B, 3, H, W]`.
    public func pixels(_ scenes: [SceneKey]) -> Tensor { batch(scenes, pixels) }

    private func batch<Item>(_ items: [Item], _ pixels: (Item) throws -> Tensor) rethrows -> Tensor {
        let size = recipe.imageSize
        return concat(try items.map { reshape(try pixels($0), [1, 3, size, size]) }, axis: 0)
    }
}
