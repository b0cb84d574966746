/// A scene written as short groups of words, one group per part of the picture: each grid cell in
/// reading order (its place, and its object's size, fill, colour and shape when it has one), then
/// the background, then the text drawn at the bottom, one piece per group.
///
/// With the answer to an instruction and the words the instruction asks about (`askedWords`),
/// this is what the language model reads in place of the image while it learns to answer from a
/// picture (the language stage), and what the Q-Former learns to write from pixels (alignment): a
/// description whose every part has a fixed place, unlike a caption.
public struct SceneCode: Hashable, Sendable {
    /// The word groups of the cells (9, in reading order) and the background.
    public let groups: [String]
    /// The scene's text exactly as drawn, or nil; the reader splits it into its own tokens.
    public let text: String?

    /// A cell's words: its place, then its object's size, fill, colour and shape when it has one.
    public static func group(_ cell: Cell, _ object: SceneObject?) -> String {
        object.map { "\(cell.name) \($0.fullName)" } ?? cell.name
    }

    /// Groups every scene has (the 9 cells and the background); the answer follows them.
    public static let groupCount = Cell.all.count + 1

    /// The instruction's words that name something in the recipe's world - colours, shapes (and
    /// their plurals), sizes, fills, backgrounds, and the words of the cells' names (top, left,
    /// center, ...; so also the "left" of "to the left of") - each once, in the instruction's order.
    /// Numbers and the relations above and below are not among them. As a code group they give
    /// the Q-Former a target on what was asked:
    /// without one, a yes/no check has no signal that either the image or the instruction alone
    /// explains, and the Q-Former stays at the majority answer (see docs/findings.md, align).
    public static func askedWords(_ instruction: String, recipe: DataRecipe) -> [String] {
        let world = Set(recipe.colors.map(\.rawValue) + recipe.shapes.flatMap { [$0.rawValue, $0.plural] }
                        + recipe.sizes.map(\.rawValue) + recipe.fills.map(\.rawValue) + recipe.backgrounds.map(\.rawValue)
                        + Cell.all.flatMap { $0.name.split(separator: " ").map(String.init) })
        var seen = Set<String>()
        return instruction.lowercased().split(whereSeparator: { !$0.isLetter }).map(String.init)
            .filter { world.contains($0) && seen.insert($0).inserted }
    }

    public init(_ scene: Scene) {
        groups = Cell.all.map { cell in Self.group(cell, scene.object(at: cell)) } + ["\(scene.background.rawValue) background"]
        text = scene.text?.string
    }
}
