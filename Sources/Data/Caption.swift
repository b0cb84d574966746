extension Scene {
    /// The scene in plain words, one fixed phrasing (the text a language model reads in place of
    /// the image): "Two objects on a white background: a large solid red circle at the top left and
    /// a small outlined blue square in the center. The word "cat" is written at the bottom."
    public var caption: String {
        let count = objects.count
        let head = "\(numberWord(count).capitalizedFirst) object\(count == 1 ? "" : "s") on \(withArticle(background.rawValue)) background: "
        let items = objects.map { "\(withArticle($0.fullName)) \($0.cell.phrase)" }
        var caption = head + listed(items) + "."
        if let text { caption += " The \(text.noun) \"\(text.string)\" is written at the bottom." }
        return caption
    }

    /// The objects named briefly, as a sentence lists them: "a red circle, a blue square and a green star".
    var objectList: String { listed(objects.map { withArticle($0.name) }) }
}

/// "a" or "an" before a phrase, by its first letter.
func withArticle(_ phrase: String) -> String {
    guard let first = phrase.first else { return phrase }
    return ("aeiou".contains(first) ? "an " : "a ") + phrase
}

/// "a", "a and b", "a, b and c".
func listed(_ items: [String]) -> String {
    switch items.count {
    case 0: return "nothing"
    case 1: return items[0]
    default: return items.dropLast().joined(separator: ", ") + " and " + items.last!
    }
}

extension String {
    /// The string with its first letter in upper case.
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
