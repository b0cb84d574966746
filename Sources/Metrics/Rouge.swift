/// The ROUGE variants the paper reports (ROUGE-1, ROUGE-2, ROUGE-L) and ROUGE-Lsum.
public enum RougeType: String, CaseIterable, Sendable {
    case rouge1, rouge2, rougeL, rougeLsum
}

/// Precision, recall and F-measure of one candidate against one reference.
public struct RougeScore: Equatable, Sendable {
    public let precision: Double
    public let recall: Double
    public let fmeasure: Double

    /// The scores of a comparison with no tokens on one side.
    public static let zero = RougeScore(precision: 0, recall: 0)

    /// A score from precision and recall; F-measure as rouge-score computes it, 2PR/(P+R).
    public init(precision: Double, recall: Double) {
        self.precision = precision
        self.recall = recall
        fmeasure = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
    }
}

/// Every ROUGE type's score for one reference/candidate pair.
public struct RougeScores: Equatable, Sendable {
    public let rouge1: RougeScore
    public let rouge2: RougeScore
    public let rougeL: RougeScore
    public let rougeLsum: RougeScore

    /// The score of one type.
    public subscript(type: RougeType) -> RougeScore {
        switch type {
        case .rouge1: rouge1
        case .rouge2: rouge2
        case .rougeL: rougeL
        case .rougeLsum: rougeLsum
        }
    }
}

/// ROUGE over a corpus: each pair's scores, and the corpus value of each type.
public struct RougeCorpusScores: Sendable {
    /// One entry per reference/candidate pair, in order.
    public let samples: [RougeScores]

    /// The corpus value the paper reports: the mean of the per-sample F-measures (0 when empty).
    public func meanF(_ type: RougeType) -> Double {
        samples.isEmpty ? 0 : samples.reduce(0) { $0 + $1[type].fmeasure } / Double(samples.count)
    }
}

/// ROUGE as Google's `rouge-score` package computes it (`RougeScorer` with the default tokenizer).
///
/// Tokens: the text is lowercased (Python's rules), every run of code points outside [a-z0-9]
/// separates tokens, and with stemming each token longer than 3 characters goes through NLTK's
/// Porter stemmer. ROUGE-N counts clipped n-gram matches; ROUGE-L uses the longest common
/// subsequence of the whole texts; ROUGE-Lsum splits both texts into sentences at "\n" and uses
/// the union LCS of each reference sentence with all candidate sentences, without counting a
/// token more often than it occurs.
public struct RougeScorer: Sendable {
    /// Whether tokens longer than 3 characters are Porter-stemmed (`use_stemmer=True`).
    public let stemming: Bool
    private let stemmer = PorterStemmer()

    /// A scorer; rouge-score's default is no stemming.
    public init(stemming: Bool = false) {
        self.stemming = stemming
    }

    /// rouge-score's tokens of `text`.
    public func tokenize(_ text: String) -> [String] {
        tokenize(text.unicodeScalars)
    }

    private func tokenize<S: Sequence<Unicode.Scalar>>(_ text: S) -> [String] {
        var tokens: [String] = []
        var current = String.UnicodeScalarView()
        func finishToken() {
            guard !current.isEmpty else { return }
            let token = String(current)
            tokens.append(stemming && current.count > 3 ? stemmer.stem(token) : token)
            current = String.UnicodeScalarView()
        }
        for scalar in PythonText.lowercased(text) {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                current.append(scalar)
            } else {
                finishToken()
            }
        }
        finishToken()
        return tokens
    }

    /// Every ROUGE type for one pair (rouge-score's `score(target=reference, prediction=candidate)`).
    public func score(reference: String, candidate: String) -> RougeScores {
        let referenceTokens = tokenize(reference)
        let candidateTokens = tokenize(candidate)
        return RougeScores(
            rouge1: Self.ngramScore(referenceTokens, candidateTokens, n: 1),
            rouge2: Self.ngramScore(referenceTokens, candidateTokens, n: 2),
            rougeL: Self.lcsScore(referenceTokens, candidateTokens),
            rougeLsum: Self.summaryLCSScore(sentences(reference), sentences(candidate)))
    }

    /// Every ROUGE type for each pair, in order; the two arrays must have the same length.
    public func score(references: [String], candidates: [String]) -> RougeCorpusScores {
        precondition(references.count == candidates.count,
                     "\(references.count) references but \(candidates.count) candidates")
        return RougeCorpusScores(samples: zip(references, candidates).map { score(reference: $0, candidate: $1) })
    }

    /// ROUGE-Lsum's sentences: the text split at "\n", empty pieces dropped, each tokenized.
    private func sentences(_ text: String) -> [[String]] {
        text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: true).map { tokenize($0) }
    }

    private static func ngramCounts(_ tokens: [String], n: Int) -> [ArraySlice<String>: Int] {
        var counts: [ArraySlice<String>: Int] = [:]
        if tokens.count >= n {
            for start in 0...(tokens.count - n) { counts[tokens[start..<(start + n)], default: 0] += 1 }
        }
        return counts
    }

    private static func ngramScore(_ reference: [String], _ candidate: [String], n: Int) -> RougeScore {
        let referenceCounts = ngramCounts(reference, n: n)
        let candidateCounts = ngramCounts(candidate, n: n)
        let overlap = referenceCounts.reduce(0) { $0 + min($1.value, candidateCounts[$1.key] ?? 0) }
        let referenceTotal = max(reference.count - n + 1, 0)
        let candidateTotal = max(candidate.count - n + 1, 0)
        return RougeScore(precision: Double(overlap) / Double(max(candidateTotal, 1)),
                          recall: Double(overlap) / Double(max(referenceTotal, 1)))
    }

    /// The LCS dynamic-programming table, (reference.count + 1) x (candidate.count + 1), row-major.
    private static func lcsTable(_ reference: [String], _ candidate: [String]) -> [Int] {
        let columns = candidate.count + 1
        var table = [Int](repeating: 0, count: (reference.count + 1) * columns)
        for i in reference.indices {
            for j in candidate.indices {
                table[(i + 1) * columns + j + 1] = reference[i] == candidate[j]
                    ? table[i * columns + j] + 1
                    : max(table[i * columns + j + 1], table[(i + 1) * columns + j])
            }
        }
        return table
    }

    private static func lcsScore(_ reference: [String], _ candidate: [String]) -> RougeScore {
        guard !reference.isEmpty, !candidate.isEmpty else { return .zero }
        let length = lcsTable(reference, candidate).last!
        return RougeScore(precision: Double(length) / Double(candidate.count),
                          recall: Double(length) / Double(reference.count))
    }

    /// The reference indices of one LCS, read back from the table with rouge-score's tie-breaking
    /// (it decides which tokens ROUGE-Lsum counts).
    private static func lcsIndices(_ reference: [String], _ candidate: [String]) -> [Int] {
        let table = lcsTable(reference, candidate)
        let columns = candidate.count + 1
        var i = reference.count, j = candidate.count
        var indices: [Int] = []
        while i > 0 && j > 0 {
            if reference[i - 1] == candidate[j - 1] {
                indices.append(i - 1)
                i -= 1
                j -= 1
            } else if table[i * columns + j - 1] > table[(i - 1) * columns + j] {
                j -= 1
            } else {
                i -= 1
            }
        }
        return indices.reversed()
    }

    private static func summaryLCSScore(_ reference: [[String]], _ candidate: [[String]]) -> RougeScore {
        let referenceLength = reference.reduce(0) { $0 + $1.count }
        let candidateLength = candidate.reduce(0) { $0 + $1.count }
        guard referenceLength > 0, candidateLength > 0 else { return .zero }
        var referenceCounts: [String: Int] = [:]
        var candidateCounts: [String: Int] = [:]
        for token in reference.joined() { referenceCounts[token, default: 0] += 1 }
        for token in candidate.joined() { candidateCounts[token, default: 0] += 1 }
        var hits = 0
        for sentence in reference {
            let union = Set(candidate.flatMap { lcsIndices(sentence, $0) }).sorted()
            // A token is a hit only while both texts still have an unmatched occurrence of it.
            for token in union.map({ sentence[$0] })
            where candidateCounts[token, default: 0] > 0 && referenceCounts[token, default: 0] > 0 {
                hits += 1
                candidateCounts[token]! -= 1
                referenceCounts[token]! -= 1
            }
        }
        return RougeScore(precision: Double(hits) / Double(candidateLength),
                          recall: Double(hits) / Double(referenceLength))
    }
}
