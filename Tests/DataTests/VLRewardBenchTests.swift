@testable import Data
import Foundation
import Testing

/// A fixture folder made by tools/make_data_fixtures.py.
func fixtureFolder(_ name: String) -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").appendingPathComponent(name)
}

@Suite struct VLRewardBenchTests {
    @Test func loadsAnExport() throws {
        let folder = fixtureFolder("vlrewardbench")
        let samples = try VLRewardBench.load(folder: folder, imageSize: 64)
        #expect(samples.map(\.id) == ["wv-1", "povid-7", "mv-3"])
        #expect(samples.map(\.response) == ["Red on the left and blue on the right.", "There is no cat; the image shows a green band.",
                                             "It is 128 out of 255."], "the preferred response is the one ranked 0")
        #expect(samples.map(\.group) == [.general, .hallucination, .reasoning])
        #expect(samples.map(\.querySource) == ["wildvision", "povid", "MathVerse"])
        #expect(samples[0].image == .file(folder.appendingPathComponent("images/halves.png")))

        var recipe = DataRecipe()
        recipe.imageSize = 64
        let halves = try samples[0].image.image(recipe: recipe)
        #expect(halves.width == 64 && halves.height == 64, "96x48 is stretched to the model's square")
        #expect(halves[4, 32] == (255, 0, 0) && halves[60, 32] == (0, 0, 255) && halves[4, 2] == (255, 0, 0))
        let alpha = try samples[1].image.image(recipe: recipe)
        #expect(alpha[32, 4] == (255, 255, 255), "transparent pixels show white")
        #expect(alpha[32, 60] == (0, 200, 0))
        let gray = try samples[2].image.image(recipe: recipe)
        #expect(gray[10, 10] == (128, 128, 128))
    }

    @Test func namesEveryBadRow() {
        let folder = fixtureFolder("vlrewardbench-bad")
        let file = folder.appendingPathComponent("data.jsonl").path
        let convert = "convert it, for example with Pillow: Image.open(path).convert('RGB').save(new_path), "
            + "or export the dataset with tools/export_vlrewardbench.py, which writes PNG"
        let expected = [
            "\(file):2: not a valid JSON object",
            "\(file):3: missing field 'human_ranking'",
            "\(file):4: field 'response' must be a list of 2 strings",
            "\(file):5: field 'human_ranking' is [1, 2], which has no 0, so no response is preferred",
            "\(file):6: image 'images/missing.png' does not exist",
            "\(file):7: image 'images/photo.jpg' is a JPEG, and only PNG is read: \(convert)",
            "\(file):8: image 'images/notes.png' is not a PNG, and only PNG is read: \(convert)",
            "\(file):9: image 'images/truncated.png' is not a readable PNG (cairo: error while reading from input stream)",
            "\(file):10: field 'query_source' is 'somewhere', not one of general, hallucination, mathverse, mmmu-pro, povid, "
                + "reasoning, rlaif-v, rlhf-v, vlfeedback, wildvision",
            "\(file):11: field 'human_ranking' must be a list of 2 integers",
        ]
        #expect(throws: DataError(expected.joined(separator: "\n"))) {
            try VLRewardBench.load(folder: folder, imageSize: 64)
        }
    }

    @Test func saysWhenThereIsNoExport() {
        let folder = fixtureFolder("no-such-export")
        #expect(throws: DataError("\(folder.path)/data.jsonl: not found (export the dataset with tools/export_vlrewardbench.py)")) {
            try VLRewardBench.load(folder: folder, imageSize: 64)
        }
    }
}
