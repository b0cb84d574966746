import Study
import Data
import Engine
import Model

/// The frozen vision encoder's output for every training image, computed once before the first
/// step. Where the encoder does not train, each image's output never changes, yet every step
/// rendered its images again and ran the encoder on them: in alignment each scene comes back about
/// 21 times (5,000 steps of 32 rows over 7,600 scenes), and a step took 0.74 of the time with them kept.
final class VisionOutputCache {
    private let rowOf: [ImageSource: Int]
    private let kept: Tensor  // [images, 1 + patches, D_vision]

    /// Whether keeping pays: the run reads more image rows than there are images to encode. (In
    /// instruction tuning, 6,400 rows over 7,600 scenes, it would encode more than it saves.)
    static func pays(rowsRead: Int, images: [ImageSource]) -> Bool {
        rowsRead > Set(images).count
    }

    /// Runs the encoder over `images` (each once, `batch` at a time in first-seen order, so that the
    /// values do not depend on the training order; a resumed run makes the same cache).
    init(model: InstructBlip, data: DataBundle, images: [ImageSource], batch: Int = 32) throws {
        precondition(model.visionIsFrozen, "a vision output cache of an encoder that trains")
        var rowOf: [ImageSource: Int] = [:], unique: [ImageSource] = []
        for image in images where rowOf[image] == nil {
            rowOf[image] = unique.count
            unique.append(image)
        }
        let vision = model.config.visionConfig
        let tokens = 1 + vision.numPatches
        // Filled in place, batch by batch: holding every batch's output until a concat doubled the peak.
        let kept = Tensor(zeros: [unique.count, tokens, vision.hiddenSize])
        try Autodiff.withoutGradients {
            for start in stride(from: 0, to: unique.count, by: batch) {
                let part = model.visionOutput(try data.pixels(Array(unique[start..<min(start + batch, unique.count)])), .evaluation())
                precondition(part.count == min(batch, unique.count - start) * tokens * vision.hiddenSize, "vision output of shape \(part.shape)")
                (kept.data + start * tokens * vision.hiddenSize).update(from: part.data, count: part.count)
            }
        }
        self.rowOf = rowOf
        self.kept = kept
    }

    /// The kept outputs `[B, 1 + patches, D_vision]` of `images`, every one of which was given at init.
    func outputs(_ images: [ImageSource]) -> Tensor {
        let (tokens, width) = (kept.shape[1], kept.shape[2])
        let rows = images.flatMap { image in (rowOf[image]! * tokens)..<((rowOf[image]! + 1) * tokens) }
        return reshape(gatherRows(kept, at: rows), [images.count, tokens, width])
    }
}
