import Data
import Engine
import Model

/// The frozen vision encoder's output for every training image, computed once before the first
/// step. Where the encoder does not train (alignment, instruction tuning, adapter-only
/// fine-tuning), each image's output never changes, yet every step rendered its images again and
/// ran the encoder on them: each alignment scene comes back about 17 times in 4,000 steps.
final class VisionOutputCache {
    private let row: [ImageSource: Int]
    private let outputs: Tensor  // [images, 1 + patches, D_vision]

    /// Runs the encoder over `images` (each once, in batches of `batch`, in first-seen order, so the
    /// values do not depend on the training order).
    init(model: InstructBlip, data: DataBundle, images: [ImageSource], batch: Int = 32) throws {
        precondition(model.visionIsFrozen, "a vision output cache of an encoder that trains")
        var row: [ImageSource: Int] = [:], unique: [ImageSource] = []
        for image in images where row[image] == nil {
            row[image] = unique.count
            unique.append(image)
        }
        let size = data.recipe.imageSize
        let parts = try Autodiff.withoutGradients {
            try stride(from: 0, to: unique.count, by: batch).map { start in
                let pixels = concat(try unique[start..<min(start + batch, unique.count)].map {
                    reshape(try data.pixels($0), [1, 3, size, size])
                }, axis: 0)
                return model.visionOutput(pixels, .evaluation())
            }
        }
        self.row = row
        outputs = concat(parts, axis: 0)
    }

    /// The kept outputs `[B, 1 + patches, D_vision]` of `images`, every one of which was given at init.
    func outputs(_ images: [ImageSource]) -> Tensor {
        let (tokens, width) = (outputs.shape[1], outputs.shape[2])
        let rows = images.flatMap { image in (row[image]! * tokens)..<((row[image]! + 1) * tokens) }
        return reshape(gatherRows(outputs, at: rows), [images.count, tokens, width])
    }
}
