@testable import Data
import Engine
import Foundation
import Testing

@Suite struct TokenizerTests {
    static let corpusTexts: [String] = PretrainingCorpus(recipe: smallRecipe()).samples.flatMap { [$0.query, $0.response] }
    static let trained = Tokenizer.train(on: corpusTexts, vocabularySize: 600)

    @Test func specialTokensHaveFixedIDs() {
        #expect(Tokenizer.padID == 0 && Tokenizer.bosID == 1 && Tokenizer.eosID == 2 && Tokenizer.imageID == 3)
        #expect(Tokenizer.specialTokens == ["<pad>", "<s>", "</s>", "<image>"])
        let empty = Tokenizer(merges: [])
        #expect(empty.vocabularySize == 260)
        #expect(empty.encode("A", addBOS: true, addEOS: true) == [1, 4 + 65, 2])
        #expect(empty.decode([1, 69, 3, 2, 0]) == "A")
        #expect(empty.decode([1, 69, 2], keepingSpecialTokens: true) == "<s>A</s>")
        #expect(empty.encode("<s>") == [4 + 60, 4 + 115, 4 + 62], "special-token text in data stays text")
    }

    @Test func trainingLearnsTheCorpusWords() {
        let tokenizer = Self.trained
        #expect(tokenizer.vocabularySize > 400 && tokenizer.vocabularySize <= 600)
        for word in ["Is there a red circle in the image?", " triangle", "yes"] {
            #expect(tokenizer.encode(word).count <= word.split(separator: " ").count + 1, "'\(word)' -> \(tokenizer.encode(word))")
        }
        #expect(tokenizer.encode("1234").count == 4, "digits are never merged")
        #expect(tokenizer.encode(" red").count == 1)
    }

    @Test func trainingIsDeterministic() {
        let again = Tokenizer.train(on: Self.corpusTexts, vocabularySize: 600)
        #expect(again == Self.trained)
        // Text order does not matter either: counts decide, ties go to the smaller ids.
        var rng = SeededGenerator(seed: 5)
        var shuffled = Self.corpusTexts
        for i in stride(from: shuffled.count - 1, to: 0, by: -1) { shuffled.swapAt(i, rng.below(i + 1)) }
        #expect(Tokenizer.train(on: shuffled, vocabularySize: 600) == Self.trained)
        // A fixed tie rule: "ab" and "cd" both occur twice; (a, b) has the smaller ids and merges first.
        let tie = Tokenizer.train(on: ["cd", "ab", "cd", "ab"], vocabularySize: 261)
        #expect(tie.merges == [Tokenizer.Merge(left: 4 + 97, right: 4 + 98)])
    }

    @Test func anyUTF8RoundTrips() {
        let tokenizer = Self.trained
        let fixed = ["", "日本語のテキスト", "emoji 👩‍👩‍👧 and 🇫🇷!", "line one\nline two\r\n\ttabbed", "  two  spaces ",
                     "x = 2 * 3", "Ünïcödé façade", "\u{0}\u{7F}", String(repeating: "z", count: 300)]
        for text in fixed { #expect(tokenizer.decode(tokenizer.encode(text)) == text, "\(text.debugDescription)") }
        var rng = SeededGenerator(seed: 17)
        // Scalars from ASCII, Latin, CJK, emoji and the astral planes (never surrogates, which are not scalars).
        let ranges: [ClosedRange<UInt32>] = [0x00...0x7F, 0x80...0x7FF, 0x4E00...0x9FFF, 0x1F300...0x1FAFF, 0x10000...0x10FFFF]
        for _ in 0..<300 {
            var text = ""
            for _ in 0..<rng.below(40) {
                let range = rng.pick(ranges)
                let value = range.lowerBound + UInt32(rng.below(Int(range.upperBound - range.lowerBound) + 1))
                if let scalar = Unicode.Scalar(value) { text.unicodeScalars.append(scalar) }
            }
            let ids = tokenizer.encode(text, addBOS: true, addEOS: true)
            #expect(ids.allSatisfy { $0 >= 0 && $0 < tokenizer.vocabularySize })
            #expect(tokenizer.decode(ids) == text, "\(text.debugDescription)")
        }
    }

    @Test func saveAndLoad() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("repro-tokenizer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("tokenizer.json")
        try Self.trained.save(to: url)
        let loaded = try Tokenizer.load(from: url)
        #expect(loaded == Self.trained)
        #expect(loaded.encode("Is the red circle above the blue square?") == Self.trained.encode("Is the red circle above the blue square?"))

        try Data(#"{"format": "repro byte-level BPE v1", "special_tokens": ["<pad>", "<s>", "</s>", "<image>"], "merges": [[4, 900]]}"#.utf8).write(to: url)
        #expect(throws: DataError("\(url.path): merge 0 [4, 900] must join two tokens that exist before it (ids 4..<260)")) {
            try Tokenizer.load(from: url)
        }
        try Data(#"{"format": "sentencepiece", "special_tokens": [], "merges": []}"#.utf8).write(to: url)
        #expect(throws: DataError("\(url.path): format 'sentencepiece', expected 'repro byte-level BPE v1'")) {
            try Tokenizer.load(from: url)
        }
    }
}
