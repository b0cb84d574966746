/// NLTK's `PorterStemmer` in its default mode (`NLTK_EXTENSIONS`), the stemmer rouge-score uses.
///
/// The steps follow Porter (1980) with the changes NLTK makes in that mode: a table of irregular
/// forms, words of one or two characters left alone, "ies"/"ied" on four-letter words, Step 1c's
/// "(*c and not c) Y -> I", "alli" tried first in Step 2, "bli -> ble", "fulli" and "logi", and
/// the two-letter "*o" condition.
public struct PorterStemmer: Sendable {
    typealias Word = [Unicode.Scalar]

    /// Forms the algorithm gets wrong, mapped to their stems (NLTK's `pool`).
    private static let irregularForms: [Word: String] = {
        let forms = [
            "sky": ["sky", "skies"], "die": ["dying"], "lie": ["lying"], "tie": ["tying"],
            "news": ["news"], "inning": ["innings", "inning"], "outing": ["outings", "outing"],
            "canning": ["cannings", "canning"], "howe": ["howe"], "proceed": ["proceed"],
            "exceed": ["exceed"], "succeed": ["succeed"],
        ]
        var table: [Word: String] = [:]
        for (stem, words) in forms {
            for word in words { table[Array(word.unicodeScalars)] = stem }
        }
        return table
    }()

    /// A stemmer (it keeps no state).
    public init() {}

    /// The stem of `word`, lowercased first as NLTK does.
    public func stem(_ word: String) -> String {
        let lowered = PythonText.lowercased(word.unicodeScalars)
        if let irregular = Self.irregularForms[lowered] { return irregular }
        // NLTK measures the word as given, before lowercasing.
        if word.unicodeScalars.count <= 2 { return PythonText.string(lowered) }
        var stem = step1a(lowered)
        stem = step1b(stem)
        stem = step1c(stem)
        stem = step2(stem)
        stem = step3(stem)
        stem = step4(stem)
        stem = step5a(stem)
        stem = step5b(stem)
        return PythonText.string(stem)
    }

    // MARK: - Consonants, vowels and measure

    private static func isVowelLetter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a", "e", "i", "o", "u": return true
        default: return false
        }
    }

    /// Whether each letter is a consonant: not a vowel, and a "y" only when it starts the word
    /// or follows a vowel.
    private func consonantFlags(_ word: Word) -> [Bool] {
        var flags: [Bool] = []
        flags.reserveCapacity(word.count)
        for (i, letter) in word.enumerated() {
            if Self.isVowelLetter(letter) {
                flags.append(false)
            } else if letter == "y" {
                flags.append(i == 0 ? true : !flags[i - 1])
            } else {
                flags.append(true)
            }
        }
        return flags
    }

    /// m in [C](VC)^m[V]: the number of vowel-to-consonant transitions.
    private func measure(_ stem: some Collection<Unicode.Scalar>) -> Int {
        let flags = consonantFlags(Array(stem))
        var m = 0
        for i in flags.indices.dropLast() where !flags[i] && flags[i + 1] { m += 1 }
        return m
    }

    private func containsVowel(_ stem: Word) -> Bool {
        consonantFlags(stem).contains(false)
    }

    /// *d: the word ends with a double consonant.
    private func endsDoubleConsonant(_ word: Word) -> Bool {
        word.count >= 2 && word[word.count - 1] == word[word.count - 2] && consonantFlags(word).last!
    }

    /// *o: the word ends consonant-vowel-consonant, the last not w, x or y; NLTK also accepts a
    /// two-letter vowel-consonant word.
    private func endsCVC(_ word: Word) -> Bool {
        let flags = consonantFlags(word)
        let n = word.count
        if n >= 3 && flags[n - 3] && !flags[n - 2] && flags[n - 1] && !["w", "x", "y"].contains(word[n - 1]) {
            return true
        }
        return n == 2 && !flags[0] && flags[1]
    }

    // MARK: - Rules

    /// A suffix rule: when the word ends with `suffix`, replace it if the condition holds on the
    /// remaining stem.
    private struct Rule {
        let suffix: String
        let replacement: Word
        let condition: ((Word) -> Bool)?

        init(_ suffix: String, _ replacement: String, _ condition: ((Word) -> Bool)? = nil) {
            self.suffix = suffix
            self.replacement = Array(replacement.unicodeScalars)
            self.condition = condition
        }
    }

    /// NLTK's `_apply_rule_list`: the first rule whose suffix matches decides, whether its
    /// condition holds (replace) or not (keep the word).
    private func apply(_ rules: [Rule], to word: Word) -> Word {
        for rule in rules where word.ends(with: rule.suffix) {
            let stem = Word(word.dropLast(rule.suffix.unicodeScalars.count))
            if rule.condition?(stem) ?? true { return stem + rule.replacement }
            return word
        }
        return word
    }

    private func positiveMeasure(_ stem: Word) -> Bool { measure(stem) > 0 }

    private func step1a(_ word: Word) -> Word {
        if word.count == 4 && word.ends(with: "ies") { return Word(word.dropLast(3)) + Array("ie".unicodeScalars) }
        return apply([Rule("sses", "ss"), Rule("ies", "i"), Rule("ss", "ss"), Rule("s", "")], to: word)
    }

    private func step1b(_ word: Word) -> Word {
        if word.ends(with: "ied") {
            return Word(word.dropLast(3)) + Array((word.count == 4 ? "ie" : "i").unicodeScalars)
        }
        if word.ends(with: "eed") {
            let stem = Word(word.dropLast(3))
            return measure(stem) > 0 ? stem + Array("ee".unicodeScalars) : word
        }
        var intermediate: Word?
        for suffix in ["ed", "ing"] where word.ends(with: suffix) {
            let stem = Word(word.dropLast(suffix.unicodeScalars.count))
            if containsVowel(stem) { intermediate = stem; break }
        }
        guard let stem = intermediate else { return word }
        for (suffix, replacement) in [("at", "ate"), ("bl", "ble"), ("iz", "ize")] where stem.ends(with: suffix) {
            return Word(stem.dropLast(2)) + Array(replacement.unicodeScalars)
        }
        if endsDoubleConsonant(stem) {
            // (*d and not (*L or *S or *Z)) -> single letter; otherwise no later rule is tried.
            return ["l", "s", "z"].contains(stem.last!) ? stem : Word(stem.dropLast())
        }
        return measure(stem) == 1 && endsCVC(stem) ? stem + ["e"] : stem
    }

    private func step1c(_ word: Word) -> Word {
        apply([Rule("y", "i") { stem in stem.count > 1 && consonantFlags(stem).last! }], to: word)
    }

    private func step2(_ word: Word) -> Word {
        // NLTK tries "alli" -> "al" before the other rules and runs Step 2 again on the result.
        if word.ends(with: "alli") && positiveMeasure(Word(word.dropLast(4))) {
            return step2(Word(word.dropLast(4)) + Array("al".unicodeScalars))
        }
        let rules = [
            ("ational", "ate"), ("tional", "tion"), ("enci", "ence"), ("anci", "ance"), ("izer", "ize"),
            ("bli", "ble"), ("alli", "al"), ("entli", "ent"), ("eli", "e"), ("ousli", "ous"),
            ("ization", "ize"), ("ation", "ate"), ("ator", "ate"), ("alism", "al"), ("iveness", "ive"),
            ("fulness", "ful"), ("ousness", "ous"), ("aliti", "al"), ("iviti", "ive"), ("biliti", "ble"),
            ("fulli", "ful"),
        ].map { Rule($0.0, $0.1, positiveMeasure) }
        // "logi" -> "log" keeps the "l" in the measured stem, so that "geo" and "theo" stem too.
        let logi = Rule("logi", "log") { _ in positiveMeasure(Word(word.dropLast(3))) }
        return apply(rules + [logi], to: word)
    }

    private func step3(_ word: Word) -> Word {
        apply([
            ("icate", "ic"), ("ative", ""), ("alize", "al"), ("iciti", "ic"), ("ical", "ic"), ("ful", ""), ("ness", ""),
        ].map { Rule($0.0, $0.1, positiveMeasure) }, to: word)
    }

    private func step4(_ word: Word) -> Word {
        let measureAboveOne: (Word) -> Bool = { measure($0) > 1 }
        var rules = ["al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent"]
            .map { Rule($0, "", measureAboveOne) }
        rules.append(Rule("ion", "") { stem in measure(stem) > 1 && ["s", "t"].contains(stem.last!) })
        rules += ["ou", "ism", "ate", "iti", "ous", "ive", "ize"].map { Rule($0, "", measureAboveOne) }
        return apply(rules, to: word)
    }

    private func step5a(_ word: Word) -> Word {
        // Both (m>1) E and (m=1 and not *o) E are tried, so the generic rule list does not fit.
        guard word.last == "e" else { return word }
        let stem = Word(word.dropLast())
        let m = measure(stem)
        return m > 1 || (m == 1 && !endsCVC(stem)) ? stem : word
    }

    private func step5b(_ word: Word) -> Word {
        apply([Rule("ll", "l") { _ in measure(word.dropLast()) > 1 }], to: word)
    }
}
