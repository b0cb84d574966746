@testable import Data
import Engine
import Foundation
import Testing

/// A world small enough that tests run in milliseconds.
func smallRecipe() -> DataRecipe {
    var recipe = DataRecipe()
    recipe.pretrainingScenes = 150
    recipe.finetuneSamples = 120
    recipe.benchmarkImagesPerSubtask = 4
    recipe.vocabularySize = 600
    return recipe
}

@Suite struct SceneTests {
    @Test func sameKeyGivesSameSceneAndPixels() {
        let recipe = DataRecipe()
        for seed in [UInt64(0), 7, 1 << 50] {
            let key = SceneKey(seed: seed)
            #expect(Scene(recipe: recipe, key: key) == Scene(recipe: recipe, key: key))
            #expect(recipe.image(of: key) == recipe.image(of: key))
        }
        let images = Set((0..<20).map { recipe.image(of: SceneKey(seed: UInt64($0))).bytes })
        #expect(images.count == 20, "twenty seeds should give twenty different images")
    }

    @Test func recipeSeedChangesTheWorld() {
        var other = DataRecipe()
        other.seed = 1
        let key = SceneKey(seed: 3)
        let scenes = (0..<10).map { SceneKey(seed: UInt64($0)) }
        #expect(scenes.map { Scene(recipe: DataRecipe(), key: $0) } != scenes.map { Scene(recipe: other, key: $0) })
        #expect(Scene(recipe: other, key: key) == Scene(recipe: other, key: key))
    }

    @Test func scenesFollowTheRecipe() {
        var recipe = DataRecipe()
        recipe.shapes = [.hexagon, .cross]
        recipe.colors = [.pink, .cyan, .brown]
        recipe.sizes = [.medium]
        recipe.fills = [.striped, .dotted]
        recipe.backgrounds = [.gray]
        recipe.minObjects = 2
        recipe.maxObjects = 5
        recipe.textProbability = 0.5
        recipe.textKinds = [.code]
        var sawText = false
        for seed in 0..<300 {
            let scene = Scene(recipe: recipe, key: SceneKey(seed: UInt64(seed)))
            #expect(scene.background == .gray)
            #expect(scene.objects.allSatisfy { recipe.shapes.contains($0.shape) && recipe.colors.contains($0.color) })
            #expect(scene.objects.allSatisfy { $0.size == .medium && recipe.fills.contains($0.fill) })
            #expect((2...5).contains(scene.objects.count))
            #expect(Set(scene.objects.map(\.name)).count == scene.objects.count, "shape and color together name one object")
            #expect(Set(scene.objects.map(\.cell)).count == scene.objects.count, "at most one object per cell")
            if let text = scene.text {
                sawText = true
                #expect(text.kind == .code)
                #expect(scene.objects.allSatisfy { $0.cell.row < 2 }, "the bottom row belongs to the text")
            }
        }
        #expect(sawText)
    }

    @Test func requiredTextOverridesTheRecipe() {
        var recipe = DataRecipe()
        recipe.textProbability = 0
        for kind in TextKind.allCases {
            let scene = Scene(recipe: recipe, key: SceneKey(seed: 5, requiredText: kind))
            #expect(scene.text?.kind == kind)
        }
        #expect(Scene(recipe: recipe, key: SceneKey(seed: 5)).text == nil)
    }

    @Test func sceneKeyNamesRoundTrip() {
        for key in [SceneKey(seed: 0), SceneKey(seed: 0xABCD, requiredText: .french), SceneKey(seed: .max, requiredText: .code)] {
            #expect(SceneKey(name: key.name) == key)
            #expect(SceneKey(name: key.name + ".png") == key)
        }
        #expect(SceneKey(seed: 0x1F).name == "scene-000000000000001f")
        #expect(SceneKey(name: "photo.png") == nil)
        #expect(SceneKey(name: "scene-000000000000001f-klingon") == nil)
    }

    @Test func textValuesAreComputed() {
        #expect(SceneText.arithmetic(3, .plus, 4).string == "3+4")
        #expect(SceneText.arithmetic(3, .plus, 4).result == 7)
        #expect(SceneText.code(variable: "x", 2, .times, 3).string == "x = 2 * 3")
        #expect(SceneText.code(variable: "x", 2, .times, 3).result == 6)
        #expect(SceneText.arithmetic(9, .minus, 4).result == 5)
        #expect(SceneText.word("cat").result == nil)
        var rng = SeededGenerator(seed: 1)
        for _ in 0..<500 {
            let text = SceneText.random(rng.pick(TextKind.allCases), using: &rng)
            #expect(text.string.count <= VisionTargets.maxTextLength)
            #expect(text.string.allSatisfy(VisionTargets.characters.contains))
            if let result = text.result { #expect(result >= 0, "a difference is never negative: \(text.string)") }
        }
    }

    /// The renderer puts each object's color at its cell's centre and the background elsewhere.
    @Test func pixelsShowTheScene() {
        var recipe = DataRecipe()
        recipe.fills = [.solid, .outlined]
        let cell = Double(recipe.imageSize) / 3
        for seed in 0..<40 {
            let scene = Scene(recipe: recipe, key: SceneKey(seed: UInt64(seed)))
            let image = scene.rendered(size: recipe.imageSize)
            #expect(image.width == 64 && image.height == 64)
            for c in scene.objectCells {
                let (x, y) = (Int((Double(c.column) + 0.5) * cell), Int((Double(c.row) + 0.5) * cell))
                let pixel = image[x, y]
                let level = scene.background.level
                if let object = scene.object(at: c), object.fill == .solid {
                    let rgb = object.color.rgb
                    #expect(pixel == rgb, "cell \(c.index) of seed \(seed): \(pixel), expected the \(object.color) \(rgb)")
                } else {
                    #expect(pixel == (level, level, level), "cell \(c.index) of seed \(seed) should show the background")
                }
            }
            if scene.text != nil {
                let textLevel = scene.background.textLevel
                let band = (Int(2 * cell)..<64).flatMap { y in (0..<64).map { x in image[x, y] } }
                #expect(band.filter { $0 == (textLevel, textLevel, textLevel) }.count > 12, "the text should be drawn in the bottom row")
            }
        }
    }

    @Test func visionTargetsMatchTheScene() {
        let recipe = DataRecipe()
        for seed in 0..<100 {
            let scene = Scene(recipe: recipe, key: SceneKey(seed: UInt64(seed)))
            let targets = VisionTargets(scene)
            #expect(targets.shape.filter { $0 != 0 }.count == scene.objects.count)
            for object in scene.objects {
                #expect(Shape.allCases[targets.shape[object.cell.index] - 1] == object.shape)
                #expect(Color.allCases[targets.color[object.cell.index] - 1] == object.color)
                #expect(Size.allCases[targets.size[object.cell.index] - 1] == object.size)
                #expect(Fill.allCases[targets.fill[object.cell.index] - 1] == object.fill)
                // Where each of two objects lies from the other: 1 before it, 2 level, 3 after it.
                let other = scene.objects.first { $0 != object }
                let columns = other.map { object.cell.column < $0.cell.column ? 1 : object.cell.column == $0.cell.column ? 2 : 3 }
                let rows = other.map { object.cell.row < $0.cell.row ? 1 : object.cell.row == $0.cell.row ? 2 : 3 }
                #expect(targets.columnRelation[object.cell.index] == (scene.objects.count == 2 ? columns! : 0))
                #expect(targets.rowRelation[object.cell.index] == (scene.objects.count == 2 ? rows! : 0))
            }
            #expect(targets.columnRelation.filter { $0 != 0 }.count == (scene.objects.count == 2 ? 2 : 0))
            #expect(Background.allCases[targets.background] == scene.background)
            let decoded = String(targets.textCharacters.filter { $0 > 0 }.map { VisionTargets.characters[$0 - 1] })
            #expect(decoded == (scene.text?.string ?? ""))
            #expect(targets.textKind == (scene.text.map { 1 + TextKind.allCases.firstIndex(of: $0.kind)! } ?? 0))
            #expect(targets.textCharacters.count == VisionTargets.maxTextLength)
        }
    }

    @Test func captionNamesEveryObject() {
        let scene = Scene(key: SceneKey(seed: 0), background: .white, objects: [
            SceneObject(shape: .circle, color: .red, size: .large, fill: .solid, cell: Cell(0)),
            SceneObject(shape: .square, color: .blue, size: .small, fill: .outlined, cell: Cell(4)),
        ], text: .arithmetic(3, .plus, 4))
        #expect(scene.caption == "Two objects on a white background: a large solid red circle at the top left and "
                + "a small outlined blue square in the center. The expression \"3+4\" is written at the bottom.")
        let orange = Scene(key: SceneKey(seed: 0), background: .black, objects: [
            SceneObject(shape: .star, color: .orange, size: .small, fill: .outlined, cell: Cell(5)),
        ], text: nil)
        #expect(orange.caption == "One object on a black background: a small outlined orange star on the right.")
    }

    @Test func sceneCodeHasAFixedPlaceForEachPart() {
        let scene = Scene(key: SceneKey(seed: 0), background: .white, objects: [
            SceneObject(shape: .circle, color: .red, size: .large, fill: .solid, cell: Cell(0)),
            SceneObject(shape: .square, color: .blue, size: .small, fill: .outlined, cell: Cell(4)),
        ], text: .arithmetic(3, .plus, 4))
        let code = SceneCode(scene)
        #expect(code.groups == ["top left large solid red circle", "top", "top right", "left", "center small outlined blue square",
                                "right", "bottom left", "bottom", "bottom right", "white background"])
        #expect(code.text == "3+4")
        #expect(SceneCode(Scene(key: SceneKey(seed: 0), background: .black, objects: [], text: nil)).text == nil)
    }

    @Test func pixelValuesAreNormalisedLikeCLIP() {
        let image = RGBImage(width: 2, height: 1, bytes: [255, 255, 255, 0, 128, 255])
        let pixels = ImageProcessor.pixelValues(image)
        #expect(pixels.shape == [3, 1, 2])
        let expected: [Float] = [
            (1 - 0.48145466) / 0.26862954, (0 - 0.48145466) / 0.26862954,
            (1 - 0.4578275) / 0.26130258, (128 / 255 - 0.4578275) / 0.26130258,
            (1 - 0.40821073) / 0.27577711, (1 - 0.40821073) / 0.27577711,
        ]
        for (value, want) in zip(pixels.values, expected) { #expect(abs(value - want) < 1e-5) }
        let batch = ImageProcessor.pixelValues([image, RGBImage(width: 2, height: 1, bytes: [0, 0, 0, 0, 0, 0])])
        #expect(batch.shape == [2, 3, 1, 2])
        #expect(Array(batch.values[0..<6]) == pixels.values)
        #expect(abs(batch.values[6] - (-0.48145466 / 0.26862954)) < 1e-5)
    }

    @Test func pngRoundTrip() throws {
        let image = DataRecipe().image(of: SceneKey(seed: 11))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("repro-scene-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(at: url) }
        try image.writePNG(to: url)
        #expect(try RGBImage(png: url, resizedTo: 64) == image, "a PNG read back at its own size is unchanged")
        #expect(try RGBImage(png: url, resizedTo: 32).width == 32)
    }

    /// Cairo makes no image taller than 32,767 pixels: a long sheet goes on in pages, every tile on one of them.
    @Test func aContactSheetTooTallForOneImageContinuesOnPages() throws {
        let tile = RGBImage(width: 8, height: 8, bytes: [UInt8](repeating: 200, count: 8 * 8 * 3))
        let entries = (0..<10).map { ContactSheet.Entry(image: tile, title: "tile \($0)", lines: ["one line"]) }
        let whole = try #require(ContactSheet.render(entries, columns: 4).first)
        #expect(ContactSheet.render(entries, columns: 4).count == 1)
        // Three rows of tiles; room for two of them a page.
        let rowHeight = (whole.height - 12) / 3
        let pages = ContactSheet.render(entries, columns: 4, maxHeight: 12 + 2 * rowHeight + 1)
        #expect(pages.map(\.height) == [12 + 2 * rowHeight, 12 + rowHeight])
        #expect(pages.allSatisfy { $0.width == whole.width })
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("repro-sheet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let written = try ContactSheet.write(pages, to: folder.appendingPathComponent("probe.png"))
        #expect(written.map(\.lastPathComponent) == ["probe.png", "probe-2.png"])
        #expect(written.allSatisfy { FileManager.default.fileExists(atPath: $0.path) })
    }
}
