import Foundation

/// BLEU's sufficient statistics: lengths and n-gram matches, which add up over a corpus.
public struct BLEUStatistics: Equatable, Sendable {
    /// Tokens in the candidates (sacrebleu's `sys_len`).
    public var candidateLength = 0
    /// Tokens in the references (`ref_len`).
    public var referenceLength = 0
    /// Clipped n-gram matches for n = 1...4 (`counts`).
    public var matches = [Int](repeating: 0, count: BLEU.maxOrder)
    /// Candidate n-grams for n = 1...4 (`totals`).
    public var totals = [Int](repeating: 0, count: BLEU.maxOrder)

    /// No text at all.
    public init() {}

    /// The statistics of two corpora together.
    public static func + (a: BLEUStatistics, b: BLEUStatistics) -> BLEUStatistics {
        var sum = a
        sum.candidateLength += b.candidateLength
        sum.referenceLength += b.referenceLength
        for n in 0..<BLEU.maxOrder {
            sum.matches[n] += b.matches[n]
            sum.totals[n] += b.totals[n]
        }
        return sum
    }
}

/// A BLEU score with the parts sacrebleu reports.
public struct BLEUScore: Equatable, Sendable {
    /// sacrebleu's score, 0-100.
    public let score: Double
    /// The n-gram precisions in percent, n = 1...4.
    public let precisions: [Double]
    /// The brevity penalty.
    public let brevityPenalty: Double
    /// The statistics the score comes from.
    public let statistics: BLEUStatistics

    /// The score on the paper's 0-1 scale.
    public var value: Double { score / 100 }
}

/// BLEU as sacrebleu computes it with its defaults: tokenizer 13a, case-sensitive, n-grams of
/// order 1 to 4, statistics summed over the corpus, "exp" smoothing, one reference per candidate.
public enum BLEU {
    /// The highest n-gram order.
    public static let maxOrder = 4

    /// sacrebleu's signature of the corpus settings matched here (its version is in the test fixtures).
    public static let signature = "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp"

    /// sacrebleu's tokens of a segment: trailing whitespace removed, then the 13a tokenizer.
    public static func tokenize(_ segment: String) -> [String] {
        tokenScalars(segment).map { PythonText.string($0) }
    }

    /// Corpus BLEU (sacrebleu's `corpus_bleu(candidates, [references])`).
    public static func corpus(references: [String], candidates: [String]) -> BLEUScore {
        precondition(references.count == candidates.count,
                     "\(references.count) references but \(candidates.count) candidates")
        let total = zip(references, candidates).reduce(BLEUStatistics()) {
            $0 + statistics(reference: $1.0, candidate: $1.1)
        }
        return score(total, effectiveOrder: false)
    }

    /// Sentence BLEU (sacrebleu's `sentence_bleu`, whose default is the effective order: n-gram
    /// orders that the candidate is too short to have are left out of the mean).
    public static func sentence(reference: String, candidate: String, effectiveOrder: Bool = true) -> BLEUScore {
        score(statistics(reference: reference, candidate: candidate), effectiveOrder: effectiveOrder)
    }

    /// The statistics of one candidate against its reference.
    public static func statistics(reference: String, candidate: String) -> BLEUStatistics {
        // Tokens are compared code point by code point, as Python compares strings.
        var ids: [[Unicode.Scalar]: Int] = [:]
        func idTokens(_ text: String) -> [Int] {
            tokenScalars(text).map { token in
                if let id = ids[token] { return id }
                ids[token] = ids.count
                return ids.count - 1
            }
        }
        let referenceTokens = idTokens(reference)
        let candidateTokens = idTokens(candidate)
        let referenceCounts = ngramCounts(referenceTokens)
        var statistics = BLEUStatistics()
        statistics.candidateLength = candidateTokens.count
        statistics.referenceLength = referenceTokens.count
        for (ngram, count) in ngramCounts(candidateTokens) {
            statistics.totals[ngram.count - 1] += count
            statistics.matches[ngram.count - 1] += min(count, referenceCounts[ngram] ?? 0)
        }
        return statistics
    }

    /// The score of (summed) statistics, as sacrebleu's `compute_bleu` with "exp" smoothing.
    public static func score(_ statistics: BLEUStatistics, effectiveOrder: Bool) -> BLEUScore {
        let candidateLength = Double(statistics.candidateLength)
        let referenceLength = Double(statistics.referenceLength)
        var brevityPenalty = 1.0
        if statistics.candidateLength < statistics.referenceLength {
            brevityPenalty = statistics.candidateLength > 0 ? exp(1 - referenceLength / candidateLength) : 0
        }
        var precisions = [Double](repeating: 0, count: maxOrder)
        guard statistics.matches.contains(where: { $0 != 0 }) else {
            return BLEUScore(score: 0, precisions: precisions, brevityPenalty: brevityPenalty, statistics: statistics)
        }
        // "exp" smoothing: the k-th order with no match gets precision 100 / (2^k * total).
        var smoothing = 1.0
        var order = maxOrder
        for n in 0..<maxOrder {
            let total = Double(statistics.totals[n])
            if statistics.totals[n] == 0 { break }
            if effectiveOrder { order = n + 1 }
            if statistics.matches[n] == 0 {
                smoothing *= 2
                precisions[n] = 100 / (smoothing * total)
            } else {
                precisions[n] = 100 * Double(statistics.matches[n]) / total
            }
        }
        let logSum = precisions[..<order].reduce(0) { $0 + flooredLog($1) }
        return BLEUScore(score: brevityPenalty * exp(logSum / Double(order)), precisions: precisions,
                         brevityPenalty: brevityPenalty, statistics: statistics)
    }

    /// sacrebleu's `my_log`: log, with log(0) replaced by a very low number.
    private static func flooredLog(_ x: Double) -> Double {
        x == 0 ? -9_999_999_999 : log(x)
    }

    /// Counts of every n-gram of order 1...4.
    private static func ngramCounts(_ tokens: [Int]) -> [ArraySlice<Int>: Int] {
        var counts: [ArraySlice<Int>: Int] = [:]
        for n in 1...maxOrder where tokens.count >= n {
            for start in 0...(tokens.count - n) { counts[tokens[start..<(start + n)], default: 0] += 1 }
        }
        return counts
    }

    // MARK: - Tokenizer 13a

    /// sacrebleu's `_preprocess_segment` without lowercasing, then `Tokenizer13a`, split into tokens.
    static func tokenScalars(_ segment: String) -> [[Unicode.Scalar]] {
        var line = Array(segment.unicodeScalars)
        while let last = line.last, PythonText.isWhitespace(last) { line.removeLast() }
        // Python's str.replace, in sacrebleu's order: non-overlapping matches, left to right.
        func replace(_ target: String, with replacement: String) {
            line = line.replacing(target.unicodeScalars, with: replacement.unicodeScalars)
        }
        replace("<skipped>", with: "")
        replace("-\n", with: "")
        replace("\n", with: " ")
        if line.contains("&") {
            replace("&quot;", with: "\"")
            replace("&amp;", with: "&")
            replace("&lt;", with: "<")
            replace("&gt;", with: ">")
        }
        line = [" "] + line + [" "]
        line = spacingSymbols(line)
        line = spacingPeriodsAndCommas(line)
        line = spacingDigitHyphens(line)
        return PythonText.splitOnWhitespace(line)
    }

    /// `([\{-\~\[-\` -\&\(-\+\:-\@\/])` -> ` \1 `: ASCII punctuation and symbols except
    /// apostrophe, comma, hyphen and period get spaces around them.
    private static func spacingSymbols(_ line: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(line.count * 2)
        for scalar in line {
            switch scalar.value {
            case 0x7B...0x7E, 0x5B...0x60, 0x20...0x26, 0x28...0x2B, 0x3A...0x40, 0x2F:
                result += [" ", scalar, " "]
            default:
                result.append(scalar)
            }
        }
        return result
    }

    /// `([^0-9])([\.,])` -> `\1 \2 `, then `([\.,])([^0-9])` -> ` \1 \2`: a period or comma is
    /// split off unless digits stand on both sides. Each pass, like `re.sub`, replaces
    /// non-overlapping matches from left to right.
    private static func spacingPeriodsAndCommas(_ line: [Unicode.Scalar]) -> [Unicode.Scalar] {
        let afterNonDigit = substitutingPairs(line) { !isDigit($0) && isPeriodOrComma($1) } replacement: {
            [$0, " ", $1, " "]
        }
        return substitutingPairs(afterNonDigit) { isPeriodOrComma($0) && !isDigit($1) } replacement: {
            [" ", $0, " ", $1]
        }
    }

    /// `([0-9])(-)` -> `\1 \2 `.
    private static func spacingDigitHyphens(_ line: [Unicode.Scalar]) -> [Unicode.Scalar] {
        substitutingPairs(line) { isDigit($0) && $1 == "-" } replacement: { [$0, " ", $1, " "] }
    }

    /// `re.sub` for a pattern of exactly two code points.
    private static func substitutingPairs(
        _ line: [Unicode.Scalar], matches: (Unicode.Scalar, Unicode.Scalar) -> Bool,
        replacement: (Unicode.Scalar, Unicode.Scalar) -> [Unicode.Scalar]
    ) -> [Unicode.Scalar] {
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(line.count * 2)
        var i = 0
        while i < line.count {
            if i + 1 < line.count && matches(line[i], line[i + 1]) {
                result += replacement(line[i], line[i + 1])
                i += 2
            } else {
                result.append(line[i])
                i += 1
            }
        }
        return result
    }

    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }
    private static func isPeriodOrComma(_ scalar: Unicode.Scalar) -> Bool { scalar == "." || scalar == "," }
}
