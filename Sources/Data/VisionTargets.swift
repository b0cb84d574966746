/// Supervised targets for pretraining the vision encoder on a scene (the EVA-CLIP stand-in):
/// per grid cell, the class of its object's shape, color, size and fill, plus the background and
/// the text, as integer class indices.
///
/// Classes index the full lists of the world (`Shape.allCases`, ...), plus one, so that a class
/// means the same thing under every recipe; class 0 is "empty cell" (or "no text").
public struct VisionTargets: Hashable, Sendable {
    /// Per cell in reading order: 0 for empty, else 1 + index in `Shape.allCases`.
    public let shape: [Int]
    /// Per cell: 0 for empty, else 1 + index in `Color.allCases`.
    public let color: [Int]
    /// Per cell: 0 for empty, else 1 + index in `Size.allCases`.
    public let size: [Int]
    /// Per cell: 0 for empty, else 1 + index in `Fill.allCases`.
    public let fill: [Int]
    /// Per cell, in a scene of two objects: where its object lies from the other one by columns
    /// (1 left of it, 2 same column, 3 right of it); 0 for an empty cell or another number of objects.
    public let columnRelation: [Int]
    /// Per cell, likewise by rows: 1 above the other object, 2 same row, 3 below it.
    public let rowRelation: [Int]
    /// Index in `Background.allCases`.
    public let background: Int
    /// 0 for no text, else 1 + index in `TextKind.allCases`.
    public let textKind: Int
    /// The text's characters, each 1 + index in `characters`, padded with 0 to `maxTextLength`.
    public let textCharacters: [Int]

    /// Every character scene text uses.
    public static let characters = Array(" +-*=0123456789abcdefghijklmnopqrstuvwxyz")
    /// The longest text a scene shows ("x = 9 * 9" has 9 characters).
    public static let maxTextLength = 10

    /// Number of classes per head: shape, color, size, fill, background, text kind, text character.
    public static let shapeClasses = Shape.allCases.count + 1
    public static let colorClasses = Color.allCases.count + 1
    public static let sizeClasses = Size.allCases.count + 1
    public static let fillClasses = Fill.allCases.count + 1
    public static let backgroundClasses = Background.allCases.count
    public static let textKindClasses = TextKind.allCases.count + 1
    public static let characterClasses = characters.count + 1
    public static let relationClasses = 4

    public init(_ scene: Scene) {
        func perCell<T: Equatable & CaseIterable>(_ attribute: (SceneObject) -> T) -> [Int] where T.AllCases == [T] {
            Cell.all.map { cell in
                scene.object(at: cell).map { 1 + T.allCases.firstIndex(of: attribute($0))! } ?? 0
            }
        }
        shape = perCell(\.shape)
        color = perCell(\.color)
        size = perCell(\.size)
        fill = perCell(\.fill)
        func relation(_ coordinate: (Cell) -> Int) -> [Int] {
            var classes = [Int](repeating: 0, count: Cell.all.count)
            guard scene.objects.count == 2 else { return classes }
            for (object, other) in [(scene.objects[0], scene.objects[1]), (scene.objects[1], scene.objects[0])] {
                let (mine, theirs) = (coordinate(object.cell), coordinate(other.cell))
                classes[object.cell.index] = mine < theirs ? 1 : mine == theirs ? 2 : 3
            }
            return classes
        }
        columnRelation = relation(\.column)
        rowRelation = relation(\.row)
        background = Background.allCases.firstIndex(of: scene.background)!
        textKind = scene.text.map { 1 + TextKind.allCases.firstIndex(of: $0.kind)! } ?? 0
        let string = Array(scene.text?.string ?? "")
        precondition(string.count <= Self.maxTextLength, "scene text '\(String(string))' is longer than \(Self.maxTextLength)")
        textCharacters = (0..<Self.maxTextLength).map { i in
            i < string.count ? 1 + Self.characters.firstIndex(of: string[i])! : 0
        }
    }
}
