import Engine
import Foundation

/// Where a sample's image comes from: a scene of the rendered world, or a file of a real dataset.
public enum ImageSource: Hashable, Sendable {
    case scene(SceneKey)
    case file(URL)

    /// The image at the recipe's size: the scene rendered, or the PNG file read and resized.
    public func image(recipe: DataRecipe) throws -> RGBImage {
        switch self {
        case .scene(let key): recipe.image(of: key)
        case .file(let url): try RGBImage(png: url, resizedTo: recipe.imageSize)
        }
    }
}

/// What a hallucination query wrongly takes for granted.
public enum Premise: Hashable, Sendable {
    /// An object fitting this description, which the scene does not have.
    case object(ObjectQuery)
    /// Text, which the scene does not show.
    case text
}

/// One fine-tuning sample shaped like VL-RewardBench's: an image, a query and the preferred response.
public struct RewardSample: Hashable, Sendable {
    public let id: String
    public let image: ImageSource
    public let query: String
    /// The preferred response (VL-RewardBench: `response[human_ranking.index(0)]`).
    public let response: String
    /// The dataset's `query_source` ("povid", "wildvision", ...); a generated sample's is its group's name.
    public let querySource: String
    public let group: QueryGroup
    /// For a generated hallucination sample, what its query presupposes that the scene lacks.
    public let falsePremise: Premise?

    public init(id: String, image: ImageSource, query: String, response: String, querySource: String,
                group: QueryGroup, falsePremise: Premise? = nil) {
        self.id = id
        self.image = image
        self.query = query
        self.response = response
        self.querySource = querySource
        self.group = group
        self.falsePremise = falsePremise
    }
}

/// A fine-tuning set split into train and test, as the paper split VL-RewardBench 80/20.
public struct FinetuneSet: Sendable {
    public let train: [RewardSample]
    public let test: [RewardSample]

    /// Splits samples by a seeded shuffle: `round(count * testFraction)` go to test; each part keeps the samples' order.
    public init(splitting samples: [RewardSample], testFraction: Double, seed: UInt64) {
        (train, test) = seededSplit(samples, testFraction: testFraction, seed: seed)
    }

    /// The generated set the recipe names (scenes from the fine-tuning seed range), split by the recipe.
    public init(recipe: DataRecipe) {
        self.init(splitting: Self.generate(recipe: recipe), testFraction: recipe.finetuneTestFraction, seed: recipe.seed)
    }

    /// Every sample, train first.
    public var all: [RewardSample] { train + test }
}

/// Items split by a seeded shuffle: `round(count * testFraction)` go to test; each part keeps the
/// items' order.
func seededSplit<Item>(_ items: [Item], testFraction: Double, seed: UInt64) -> (train: [Item], test: [Item]) {
    var rng = SeededGenerator(seed: seed).fork("split")
    var order = Array(items.indices)
    for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, rng.below(i + 1)) }
    let testCount = Int((Double(items.count) * testFraction).rounded())
    let testIndices = Set(order.prefix(testCount))
    return (items.indices.filter { !testIndices.contains($0) }.map { items[$0] },
            items.indices.filter { testIndices.contains($0) }.map { items[$0] })
}
