import Engine
import Foundation
@testable import Model
import Testing

/// The CLIP score (Table 1's column) of a tiny scorer against the one PyTorch computes from the
/// same weights and inputs (tools/make_clip_fixtures.py: `transformers`' ViT for the image tower,
/// `torch.nn.TransformerEncoderLayer` for the text tower, in float64).
@Suite struct ClipTests {
    static let folder = ParityTests.fixtures.appendingPathComponent("clip")

    /// Embeddings are unit vectors computed in float32 here and float64 there: each component within
    /// 2e-5, each cosine and the mean within 2e-5 (the values are of order 0.1).
    static let tolerance: Float = 2e-5

    func loadScorer() throws -> ClipModel {
        let config = try JSONDecoder().decode(ClipConfig.self, from: Data(contentsOf: Self.folder.appendingPathComponent("config.json")))
        let clip = ClipModel(config: config, seed: 0)
        let weights = try SafeTensors.read(Self.folder.appendingPathComponent("model.safetensors"))
        let (loaded, fresh) = try clip.parameters.load(from: weights)
        #expect(fresh.isEmpty, "the fixture lacks \(fresh)")
        #expect(Set(loaded) == Set(weights.names), "every tensor of the fixture is one of the scorer's")
        return clip
    }

    @Test func clipScoreMatchesPyTorch() throws {
        let clip = try loadScorer()
        let inputs = try SafeTensors.read(Self.folder.appendingPathComponent("inputs.safetensors"))
        let expected = try SafeTensors.read(Self.folder.appendingPathComponent("expected.safetensors"))
        let pixels = try inputs.tensor("pixel_values")
        let ids = try inputs.integers("input_ids"), mask = try inputs.integers("attention_mask")
        let batch = ids.shape[0]
        #expect(mask.values.contains(0), "some texts are padded, so the mask and the masked mean are exercised")

        // As the evaluation computes it: unit embeddings of each image and its text, the cosine of
        // each pair, their mean in double precision.
        let images = Autodiff.withoutGradients { clip.imageEmbeddings(pixels, .evaluation()) }
        let texts = Autodiff.withoutGradients {
            clip.textEmbeddings(ids: ids.values.map { Int32($0) }, mask: mask.values.map { Int32($0) }, batch: batch, .evaluation())
        }
        let cosines = pairwiseCosine(images, texts)
        let score = cosines.reduce(0.0) { $0 + Double($1) } / Double(batch)

        let expectedImages = try expected.tensor("image_embeds"), expectedTexts = try expected.tensor("text_embeds")
        #expect(images.shape == expectedImages.shape && texts.shape == expectedTexts.shape)
        #expect(maxDifference(images.values, expectedImages.values) <= Self.tolerance, "image embeddings")
        #expect(maxDifference(texts.values, expectedTexts.values) <= Self.tolerance, "text embeddings")
        #expect(maxDifference(cosines, try expected.tensor("cosines").values) <= Self.tolerance, "cosines \(cosines)")
        let reference = Double(try expected.tensor("score").scalar)
        #expect(abs(score - reference) <= Double(Self.tolerance), "CLIP score \(score) against PyTorch's \(reference)")
    }

    /// A wrong pairing must move the score far beyond the tolerance, or the comparison above proves little.
    @Test func theScoreDependsOnWhichTextGoesWithWhichImage() throws {
        let clip = try loadScorer()
        let inputs = try SafeTensors.read(Self.folder.appendingPathComponent("inputs.safetensors"))
        let expected = try SafeTensors.read(Self.folder.appendingPathComponent("expected.safetensors"))
        let ids = try inputs.integers("input_ids"), mask = try inputs.integers("attention_mask")
        let (batch, length) = (ids.shape[0], ids.shape[1])
        // The texts in reverse order.
        let rows = (0..<batch).reversed().flatMap { row in (0..<length).map { row * length + $0 } }
        let pixels = try inputs.tensor("pixel_values")
        let images = Autodiff.withoutGradients { clip.imageEmbeddings(pixels, .evaluation()) }
        let texts = Autodiff.withoutGradients {
            clip.textEmbeddings(ids: rows.map { Int32(ids.values[$0]) }, mask: rows.map { Int32(mask.values[$0]) }, batch: batch, .evaluation())
        }
        let shuffled = pairwiseCosine(images, texts).reduce(0.0) { $0 + Double($1) } / Double(batch)
        #expect(abs(shuffled - Double(try expected.tensor("score").scalar)) > 100 * Double(Self.tolerance))
    }
}
