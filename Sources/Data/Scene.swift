import Engine

/// What names a scene: its seed and, when a corpus needs text of one kind, that kind.
///
/// A scene is a pure function of (recipe, key), so a sample stores only its key and the trainer
/// renders the image when it needs it.
public struct SceneKey: Hashable, Sendable, Codable {
    public let seed: UInt64
    /// Text of this kind is drawn whatever the recipe's text knobs say; nil leaves text to the recipe.
    public let requiredText: TextKind?

    public init(seed: UInt64, requiredText: TextKind? = nil) {
        self.seed = seed
        self.requiredText = requiredText
    }

    /// The key as a file name stem: "scene-<seed in hex>", with "-<text kind>" when text is required.
    public var name: String {
        let hex = String(seed, radix: 16)
        let stem = "scene-" + String(repeating: "0", count: 16 - hex.count) + hex
        return requiredText.map { "\(stem)-\($0.rawValue)" } ?? stem
    }

    /// Parses a name made by `name` (a trailing ".png" is allowed); nil for anything else.
    public init?(name: String) {
        var parts = (name.hasSuffix(".png") ? String(name.dropLast(4)) : name).split(separator: "-").map(String.init)
        guard parts.count == 2 || parts.count == 3, parts[0] == "scene", parts[1].count == 16,
              let seed = UInt64(parts[1], radix: 16) else { return nil }
        parts.removeFirst(2)
        if let kind = parts.first {
            guard let text = TextKind(rawValue: kind) else { return nil }
            self.init(seed: seed, requiredText: text)
        } else {
            self.init(seed: seed)
        }
    }
}

/// One object on the grid.
public struct SceneObject: Hashable, Sendable {
    public let shape: Shape
    public let color: Color
    public let size: Size
    public let fill: Fill
    public let cell: Cell
    /// Shift from the cell's centre, as fractions of the cell side (zero unless the recipe jitters).
    public let offsetX: Double, offsetY: Double

    public init(shape: Shape, color: Color, size: Size, fill: Fill, cell: Cell, offsetX: Double = 0, offsetY: Double = 0) {
        self.shape = shape
        self.color = color
        self.size = size
        self.fill = fill
        self.cell = cell
        self.offsetX = offsetX
        self.offsetY = offsetY
    }

    /// "red circle": unique within a scene, because no two objects share both shape and color.
    public var name: String { "\(color.rawValue) \(shape.rawValue)" }

    /// Every attribute: "large outlined red circle".
    public var fullName: String { "\(size.rawValue) \(fill.rawValue) \(color.rawValue) \(shape.rawValue)" }
}

/// An arithmetic operator as written in the scene's text.
public enum Operation: String, CaseIterable, Hashable, Sendable {
    case plus = "+", minus = "-", times = "*"

    func apply(_ a: Int, _ b: Int) -> Int {
        switch self {
        case .plus: a + b
        case .minus: a - b
        case .times: a * b
        }
    }
}

/// The text a scene shows, drawn in its bottom row.
public enum SceneText: Hashable, Sendable {
    case word(String)
    case number(Int)
    case arithmetic(Int, Operation, Int)
    case code(variable: String, Int, Operation, Int)
    case french(String, meaning: String)

    public var kind: TextKind {
        switch self {
        case .word: .word
        case .number: .number
        case .arithmetic: .arithmetic
        case .code: .code
        case .french: .french
        }
    }

    /// Exactly what is drawn.
    public var string: String {
        switch self {
        case .word(let word): word
        case .number(let n): String(n)
        case .arithmetic(let a, let op, let b): "\(a)\(op.rawValue)\(b)"
        case .code(let variable, let a, let op, let b): "\(variable) = \(a) \(op.rawValue) \(b)"
        case .french(let word, _): word
        }
    }

    /// The value of an expression or of the code's variable; nil for words and numbers.
    public var result: Int? {
        switch self {
        case .arithmetic(let a, let op, let b), .code(_, let a, let op, let b): op.apply(a, b)
        default: nil
        }
    }

    /// The noun a caption uses for this kind of text ("the expression").
    var noun: String {
        switch self {
        case .word: "word"
        case .number: "number"
        case .arithmetic: "expression"
        case .code: "code"
        case .french: "French word"
        }
    }

    static let words = ["cat", "dog", "sun", "tree", "book", "fish", "bird", "moon",
                        "cake", "boat", "lamp", "milk", "rain", "ship", "rose", "frog"]
    static let frenchWords = [("chat", "cat"), ("chien", "dog"), ("soleil", "sun"), ("arbre", "tree"),
                              ("livre", "book"), ("poisson", "fish"), ("oiseau", "bird"), ("lune", "moon"),
                              ("maison", "house"), ("pomme", "apple"), ("fleur", "flower"), ("pain", "bread"),
                              ("eau", "water"), ("porte", "door"), ("lait", "milk"), ("mer", "sea")]
    static let variables = ["x", "y", "n", "k"]

    /// A random text of the given kind: one-digit operands, so that a small model can do the sums.
    static func random(_ kind: TextKind, using rng: inout SeededGenerator) -> SceneText {
        func operands(_ op: Operation) -> (Int, Int) {
            let a = 1 + rng.below(9), b = 1 + rng.below(9)
            return op == .minus ? (max(a, b), min(a, b)) : (a, b)
        }
        switch kind {
        case .word:
            return .word(rng.pick(words))
        case .number:
            return .number(rng.below(100))
        case .arithmetic:
            let op = rng.pick(Operation.allCases)
            let (a, b) = operands(op)
            return .arithmetic(a, op, b)
        case .code:
            let variable = rng.pick(variables)
            let op = rng.pick(Operation.allCases)
            let (a, b) = operands(op)
            return .code(variable: variable, a, op, b)
        case .french:
            let (word, meaning) = rng.pick(frenchWords)
            return .french(word, meaning: meaning)
        }
    }
}

/// A rendered world's content: objects on a 3x3 grid over a background, sometimes with text.
public struct Scene: Hashable, Sendable {
    public let key: SceneKey
    public let background: Background
    /// The objects in reading order of their cells.
    public let objects: [SceneObject]
    public let text: SceneText?

    public init(key: SceneKey, background: Background, objects: [SceneObject], text: SceneText?) {
        precondition(Set(objects.map(\.cell)).count == objects.count, "two objects share a cell")
        precondition(text == nil || objects.allSatisfy { $0.cell.row < 2 }, "an object is in the text's row")
        self.key = key
        self.background = background
        self.objects = objects.sorted { $0.cell < $1.cell }
        self.text = text
    }

    /// The scene that (recipe, key) names: the same key and recipe give the same scene.
    public init(recipe: DataRecipe, key: SceneKey) {
        var rng = SeededGenerator(seed: recipe.seed).fork("scene").fork(Int(bitPattern: UInt(key.seed)))
        let text: SceneText?
        if let kind = key.requiredText {
            text = SceneText.random(kind, using: &rng)
        } else if !recipe.textKinds.isEmpty && rng.chance(recipe.textProbability) {
            text = SceneText.random(rng.pick(recipe.textKinds), using: &rng)
        } else {
            text = nil
        }
        let background = rng.pick(recipe.backgrounds)
        // Text takes the bottom row, so that it never overlaps an object and stays legible.
        var free = Scene.objectCells(withText: text != nil)
        let most = min(recipe.maxObjects, free.count, recipe.shapes.count * recipe.colors.count)
        let count = min(recipe.minObjects, most) + rng.below(max(most - recipe.minObjects, 0) + 1)
        var objects: [SceneObject] = []
        for _ in 0..<count {
            let cell = free.remove(at: rng.below(free.count))
            var shape: Shape, color: Color
            // No two objects share shape and color, so that "the red circle" always names one object.
            repeat {
                shape = rng.pick(recipe.shapes)
                color = rng.pick(recipe.colors)
            } while objects.contains { $0.shape == shape && $0.color == color }
            let size = rng.pick(recipe.sizes)
            let fill = rng.pick(recipe.fills)
            let jitter = recipe.positionJitter
            let offsetX = jitter > 0 ? (rng.uniform() * 2 - 1) * jitter : 0
            let offsetY = jitter > 0 ? (rng.uniform() * 2 - 1) * jitter : 0
            objects.append(SceneObject(shape: shape, color: color, size: size, fill: fill, cell: cell, offsetX: offsetX, offsetY: offsetY))
        }
        self.init(key: key, background: background, objects: objects, text: text)
    }

    /// The cells objects may occupy: all nine, or the top two rows when the bottom row holds text.
    public var objectCells: [Cell] { Scene.objectCells(withText: text != nil) }

    private static func objectCells(withText: Bool) -> [Cell] { Cell.all.filter { !withText || $0.row < 2 } }

    /// The object in a cell, if any.
    public func object(at cell: Cell) -> SceneObject? { objects.first { $0.cell == cell } }

    /// The objects a description fits.
    public func objects(matching query: ObjectQuery) -> [SceneObject] { objects.filter(query.matches) }
}

/// A partial description of an object ("a red circle", "a small square", "anything at the top left").
public struct ObjectQuery: Hashable, Sendable {
    public var shape: Shape?
    public var color: Color?
    public var size: Size?
    public var fill: Fill?
    public var cell: Cell?

    public init(shape: Shape? = nil, color: Color? = nil, size: Size? = nil, fill: Fill? = nil, cell: Cell? = nil) {
        self.shape = shape
        self.color = color
        self.size = size
        self.fill = fill
        self.cell = cell
    }

    /// Whether the object fits every attribute the query names.
    public func matches(_ object: SceneObject) -> Bool {
        (shape == nil || shape == object.shape) && (color == nil || color == object.color)
            && (size == nil || size == object.size) && (fill == nil || fill == object.fill)
            && (cell == nil || cell == object.cell)
    }

    /// The noun phrase without article ("small red circle", "object at the top left").
    public var phrase: String {
        let words = [size?.rawValue, fill?.rawValue, color?.rawValue, shape?.rawValue ?? "object"].compactMap { $0 }
        return words.joined(separator: " ") + (cell.map { " \($0.phrase)" } ?? "")
    }
}

extension SeededGenerator {
    /// Uniform in 0..<n (modulo bias is below 1e-17 for the small n used here).
    mutating func below(_ n: Int) -> Int {
        precondition(n > 0, "no value below \(n)")
        return Int(next() % UInt64(n))
    }

    /// One element, uniformly.
    mutating func pick<T>(_ values: [T]) -> T { values[below(values.count)] }

    /// True with probability p.
    mutating func chance(_ p: Double) -> Bool { uniform() < p }

    /// Uniform in [0, 1) with 53 random bits.
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }
}
