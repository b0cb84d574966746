/// A scene written as short groups of words, one group per part of the picture: each grid cell in
/// reading order (its place, and its object's size, fill, colour and shape when it has one), then
/// the background, then the text drawn at the bottom, one piece per group.
///
/// With the answer to an instruction, this is what the language model reads in place of the image
/// while it learns to answer from a picture (the language stage), and what the Q-Former learns to
/// write from pixels (alignment): a description whose every part has a fixed place, unlike a caption.
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

    public init(_ scene: Scene) {
        groups = Cell.all.map { cell in Self.group(cell, scene.object(at: cell)) } + ["\(scene.background.rawValue) background"]
        text = scene.text?.string
    }
}
