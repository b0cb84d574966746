/// The things a scene is made of. Each enum lists every value the renderer knows; a `DataRecipe`
/// picks the subset a world uses. Raw values are the words captions and questions use.

/// An object's outline.
public enum Shape: String, CaseIterable, Codable, Hashable, Sendable {
    case circle, square, triangle, star, diamond, hexagon, cross

    /// The plural noun ("circles").
    public var plural: String { self == .cross ? "crosses" : rawValue + "s" }
}

/// An object's colour, named as MME's "color" questions name it (American spelling throughout).
public enum Color: String, CaseIterable, Codable, Hashable, Sendable {
    case red, green, blue, yellow, purple, orange, pink, brown, cyan

    /// sRGB bytes, far apart in hue so that each colour stays nameable at a few pixels.
    public var rgb: (red: UInt8, green: UInt8, blue: UInt8) {
        switch self {
        case .red: (225, 30, 30)
        case .green: (30, 165, 50)
        case .blue: (30, 80, 235)
        case .yellow: (245, 210, 20)
        case .purple: (145, 45, 195)
        case .orange: (250, 130, 15)
        case .pink: (250, 125, 200)
        case .brown: (125, 75, 35)
        case .cyan: (20, 200, 215)
        }
    }
}

/// An object's size.
public enum Size: String, CaseIterable, Codable, Hashable, Sendable {
    case small, medium, large

    /// The object's radius as a fraction of its grid cell's side.
    var radiusFraction: Double {
        switch self {
        case .small: 0.27
        case .medium: 0.36
        case .large: 0.46
        }
    }

    /// Orders sizes for "larger than" comparisons.
    var rank: Int { Size.allCases.firstIndex(of: self)! }
}

/// How an object's inside is painted.
public enum Fill: String, CaseIterable, Codable, Hashable, Sendable {
    case solid, outlined, striped, dotted
}

/// The colour behind the objects.
public enum Background: String, CaseIterable, Codable, Hashable, Sendable {
    case white, gray, black

    /// The grey level of the background.
    var level: UInt8 {
        switch self {
        case .white: 255
        case .gray: 140
        case .black: 20
        }
    }

    /// Text drawn on this background: black on light, white on dark.
    var textLevel: UInt8 { self == .black ? 255 : 0 }
}

/// What kind of text a scene may show.
public enum TextKind: String, CaseIterable, Codable, Hashable, Sendable {
    /// An English word ("cat").
    case word
    /// A number written in digits ("47").
    case number
    /// A one-digit sum, difference or product ("3+4").
    case arithmetic
    /// One line of code assigning an expression to a variable ("x = 2 * 3").
    case code
    /// A French word whose English meaning the language model learns ("chat").
    case french
}

/// One of the nine cells of the 3x3 grid, numbered in reading order (0 top left, 8 bottom right).
public struct Cell: Hashable, Comparable, Sendable, Codable {
    public let index: Int

    public init(_ index: Int) {
        precondition((0..<9).contains(index), "cell \(index) is outside the 3x3 grid")
        self.index = index
    }

    public init(row: Int, column: Int) { self.init(row * 3 + column) }

    public var row: Int { index / 3 }
    public var column: Int { index % 3 }

    /// All nine cells in reading order.
    public static let all = (0..<9).map(Cell.init)

    /// The cell's short name, as a one-phrase answer gives it ("top left", "center").
    public var name: String {
        let rows = ["top", "middle", "bottom"]
        let columns = ["left", "middle", "right"]
        switch (row, column) {
        case (1, 1): return "center"
        case (1, _): return columns[column]
        case (_, 1): return rows[row]
        default: return "\(rows[row]) \(columns[column])"
        }
    }

    /// The cell with its preposition, as a sentence says it ("at the top left", "in the center").
    public var phrase: String {
        switch (row, column) {
        case (1, 1): "in the center"
        case (1, _): "on the \(name)"
        default: "at the \(name)"
        }
    }

    public static func < (lhs: Cell, rhs: Cell) -> Bool { lhs.index < rhs.index }
}

/// Number words for the counts a scene can have (0...9), as sentences and yes/no questions say them.
func numberWord(_ n: Int) -> String {
    let words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    return words.indices.contains(n) ? words[n] : String(n)
}
