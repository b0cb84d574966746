import Foundation

/// A byte-level BPE tokenizer: any UTF-8 text tokenizes (unknown words fall back to bytes).
///
/// Ids: `<pad>` 0, `<s>` 1, `</s>` 2, `<image>` 3 (the placeholder InstructBLIP puts in
/// `input_ids` for each query token), then the 256 bytes (id = 4 + byte), then one id per merge in
/// the order training learned them. Text is first split into chunks (a word with its leading space,
/// a single digit, a run of punctuation, a run of whitespace); merges never cross a chunk boundary,
/// and digits are never merged, so that numbers keep one token per digit.
public struct Tokenizer: Equatable, Sendable {
    public static let padID = 0
    public static let bosID = 1
    public static let eosID = 2
    public static let imageID = 3
    /// The special tokens' text, indexed by id.
    public static let specialTokens = ["<pad>", "<s>", "</s>", "<image>"]
    /// The id of byte 0; byte b is `firstByteID + b`.
    public static let firstByteID = 4
    /// The id the first merge produces.
    public static let firstMergeID = firstByteID + 256

    /// The learned merges, in order: merge k joins `merges[k].left` and `merges[k].right` into id `firstMergeID + k`.
    public let merges: [Merge]
    /// Merge rank by pair key (`pairKey`): lower merges first.
    private let ranks: [Int: Int]
    /// Each token's bytes, by id (empty for special tokens).
    private let bytes: [[UInt8]]

    /// One merge: two token ids that become one.
    public struct Merge: Equatable, Sendable, Codable {
        public let left: Int
        public let right: Int
    }

    public init(merges: [Merge]) {
        self.merges = merges
        var bytes = Array(repeating: [UInt8](), count: Self.firstByteID) + (0...255).map { [UInt8($0)] }
        var ranks: [Int: Int] = [:]
        for (rank, merge) in merges.enumerated() {
            precondition(merge.left >= Self.firstByteID && merge.right >= Self.firstByteID
                         && merge.left < Self.firstMergeID + rank && merge.right < Self.firstMergeID + rank,
                         "merge \(rank) refers to a token that does not exist yet")
            ranks[pairKey(merge.left, merge.right)] = rank
            bytes.append(bytes[merge.left] + bytes[merge.right])
        }
        self.ranks = ranks
        self.bytes = bytes
    }

    public static func == (a: Tokenizer, b: Tokenizer) -> Bool { a.merges == b.merges }

    /// Number of ids: special and byte tokens plus merges.
    public var vocabularySize: Int { Self.firstMergeID + merges.count }

    // MARK: - Training

    /// Learns merges from texts until the vocabulary reaches `vocabularySize` or no pair occurs twice.
    /// Deterministic: the most frequent pair wins, ties going to the smallest (left, right) ids.
    public static func train(on texts: [String], vocabularySize: Int) -> Tokenizer {
        var textCounts: [String: Int] = [:]
        for text in texts { textCounts[text, default: 0] += 1 }
        var chunkCounts: [[UInt8]: Int] = [:]
        for (text, count) in textCounts {
            for chunk in chunks(Array(text.utf8)) where chunk.count > 1 && !isDigit(chunk[0]) {
                chunkCounts[chunk, default: 0] += count
            }
        }
        // Sorted so that the work below does not depend on dictionary order (the result would not either).
        let sorted = chunkCounts.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        var words = sorted.map { $0.key.map { Int($0) + firstByteID } }
        let counts = sorted.map(\.value)
        var merges: [Merge] = []
        while firstMergeID + merges.count < vocabularySize {
            var pairCounts: [Int: Int] = [:]
            for (word, count) in zip(words, counts) where word.count > 1 {
                for i in 0..<(word.count - 1) { pairCounts[pairKey(word[i], word[i + 1]), default: 0] += count }
            }
            guard let best = pairCounts.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }),
                  best.value >= 2 else { break }
            let merge = Merge(left: best.key >> 32, right: best.key & 0xFFFF_FFFF)
            let id = firstMergeID + merges.count
            merges.append(merge)
            for w in words.indices where words[w].count > 1 { words[w] = apply(merge, id: id, to: words[w]) }
        }
        return Tokenizer(merges: merges)
    }

    /// The word with every occurrence of the merge's pair, left to right, replaced by `id`.
    private static func apply(_ merge: Merge, id: Int, to word: [Int]) -> [Int] {
        var result: [Int] = []
        result.reserveCapacity(word.count)
        var i = 0
        while i < word.count {
            if i + 1 < word.count && word[i] == merge.left && word[i + 1] == merge.right {
                result.append(id)
                i += 2
            } else {
                result.append(word[i])
                i += 1
            }
        }
        return result
    }

    // MARK: - Encoding and decoding

    /// The ids of a text, optionally between `<s>` and `</s>`. Special-token strings in the text are
    /// ordinary text ("<s>" encodes as its bytes), so that data can never inject a control token.
    public func encode(_ text: String, addBOS: Bool = false, addEOS: Bool = false) -> [Int] {
        var result = addBOS ? [Self.bosID] : []
        for chunk in Self.chunks(Array(text.utf8)) {
            var symbols = chunk.map { Int($0) + Self.firstByteID }
            while symbols.count > 1 {
                var bestRank = Int.max, bestIndex = -1
                for i in 0..<(symbols.count - 1) {
                    if let rank = ranks[pairKey(symbols[i], symbols[i + 1])], rank < bestRank { (bestRank, bestIndex) = (rank, i) }
                }
                guard bestIndex >= 0 else { break }
                symbols = Self.apply(merges[bestRank], id: Self.firstMergeID + bestRank, to: symbols)
            }
            result += symbols
        }
        if addEOS { result.append(Self.eosID) }
        return result
    }

    /// The text of ids; special tokens are dropped, or written as "<s>" etc. when `keepingSpecialTokens`.
    /// Bytes that do not form valid UTF-8 (a generation cut mid-character) become U+FFFD.
    public func decode(_ ids: [Int], keepingSpecialTokens: Bool = false) -> String {
        var utf8: [UInt8] = []
        for id in ids {
            precondition(id >= 0 && id < vocabularySize, "token id \(id) is outside the vocabulary of \(vocabularySize)")
            if id < Self.firstByteID {
                if keepingSpecialTokens { utf8 += Array(Self.specialTokens[id].utf8) }
            } else {
                utf8 += bytes[id]
            }
        }
        return String(decoding: utf8, as: UTF8.self)
    }

    // MARK: - Chunking

    private enum ByteClass { case letter, digit, space, whitespace, punctuation }

    private static func byteClass(_ byte: UInt8) -> ByteClass {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), 0x80...: .letter
        case UInt8(ascii: "0")...UInt8(ascii: "9"): .digit
        case UInt8(ascii: " "): .space
        case 0x09...0x0D: .whitespace
        default: .punctuation
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byteClass(byte) == .digit }

    /// Splits bytes into chunks: an optional single space with the letter or punctuation run after
    /// it, one digit, or a run of spaces or other whitespace. Non-ASCII bytes count as letters, so
    /// that a word in any script stays one chunk.
    static func chunks(_ text: [UInt8]) -> [[UInt8]] {
        var chunks: [[UInt8]] = []
        var i = 0
        while i < text.count {
            let start = i
            if text[i] == UInt8(ascii: " "), i + 1 < text.count, [.letter, .punctuation].contains(byteClass(text[i + 1])) { i += 1 }
            let kind = byteClass(text[i])
            if kind == .digit {
                i += 1
            } else {
                while i < text.count && byteClass(text[i]) == kind { i += 1 }
                // A run of spaces leaves its last space to the word that follows it.
                if kind == .space, i < text.count, i - start > 1, [.letter, .punctuation].contains(byteClass(text[i])) { i -= 1 }
            }
            chunks.append(Array(text[start..<i]))
        }
        return chunks
    }

    // MARK: - Storage

    private struct Stored: Codable {
        let format: String
        let specialTokens: [String]
        let merges: [[Int]]
        enum CodingKeys: String, CodingKey {
            case format, specialTokens = "special_tokens", merges
        }
    }

    private static let format = "repro byte-level BPE v1"

    /// Writes the tokenizer as JSON (format tag, special tokens, merges as [left, right] id pairs).
    public func save(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let stored = Stored(format: Self.format, specialTokens: Self.specialTokens, merges: merges.map { [$0.left, $0.right] })
        try encoder.encode(stored).write(to: url, options: .atomic)
    }

    /// Reads a tokenizer written by `save`, checking that it is one and that its merges are well formed.
    public static func load(from url: URL) throws -> Tokenizer {
        let stored: Stored
        do {
            stored = try JSONDecoder().decode(Stored.self, from: Data(contentsOf: url))
        } catch let error as DecodingError {
            throw DataError("\(url.path): not a tokenizer file (\(describe(error)))")
        }
        guard stored.format == format else { throw DataError("\(url.path): format '\(stored.format)', expected '\(format)'") }
        guard stored.specialTokens == specialTokens else {
            throw DataError("\(url.path): special tokens \(stored.specialTokens), expected \(specialTokens)")
        }
        var merges: [Merge] = []
        for (rank, pair) in stored.merges.enumerated() {
            guard pair.count == 2, pair.allSatisfy({ $0 >= firstByteID && $0 < firstMergeID + rank }) else {
                throw DataError("\(url.path): merge \(rank) \(pair) must join two tokens that exist before it (ids \(firstByteID)..<\(firstMergeID + rank))")
            }
            merges.append(Merge(left: pair[0], right: pair[1]))
        }
        return Tokenizer(merges: merges)
    }
}

/// Two token ids packed into one dictionary key.
@inline(__always)
private func pairKey(_ left: Int, _ right: Int) -> Int { left << 32 | right }
