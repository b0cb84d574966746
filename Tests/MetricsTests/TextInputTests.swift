import Foundation
import Metrics
import Testing

@Suite struct TextInputTests {
    /// Writes files into a fresh folder and runs `body` on it.
    func withFiles(_ files: [String: Data], _ body: (URL) throws -> Void) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for (name, data) in files { try data.write(to: folder.appendingPathComponent(name)) }
        try body(folder)
    }

    @Test func linesSplitAsPythonTextModeSplitsThem() throws {
        let files = ["a.txt": Data("one\r\ntwo\rthree\n\nfive\n".utf8), "b.txt": Data("no final newline".utf8)]
        try withFiles(files) { (folder: URL) throws in
            #expect(try TextInput.lines(of: folder.appendingPathComponent("a.txt")) == ["one", "two", "three", "", "five"])
            #expect(try TextInput.lines(of: folder.appendingPathComponent("b.txt")) == ["no final newline"])
        }
    }

    @Test func jsonlLinesHoldMultiLineTexts() throws {
        let jsonl = #""first\nsecond""# + "\n" + #""caf\u00e9 \ud83c\udf55""# + "\n"
        try withFiles(["r.jsonl": Data(jsonl.utf8)]) { (folder: URL) throws in
            let texts = try TextInput.texts(of: folder.appendingPathComponent("r.jsonl"), jsonl: true)
            #expect(texts == ["first\nsecond", "café 🍕"])
        }
    }

    @Test func badInputGivesOneLineNamingTheFile() throws {
        let files = [
            "r.txt": Data("a\nb\nc\n".utf8), "c.txt": Data("a\nb\n".utf8), "bad.jsonl": Data("\"fine\"\nnot json\n".utf8),
            "empty.txt": Data(), "latin1.txt": Data([0x63, 0x61, 0x66, 0xE9, 0x0A]),
        ]
        try withFiles(files) { (folder: URL) throws in
            func path(_ name: String) -> String { folder.appendingPathComponent(name).path }
            func pairsError(_ references: String, _ candidates: String) -> String? {
                inputError {
                    _ = try TextInput.pairs(references: URL(fileURLWithPath: path(references)),
                                            candidates: URL(fileURLWithPath: path(candidates)), jsonl: false)
                }?.description
            }
            func textsError(_ name: String, jsonl: Bool = false) -> String? {
                inputError { _ = try TextInput.texts(of: URL(fileURLWithPath: path(name)), jsonl: jsonl) }?.description
            }
            #expect(pairsError("r.txt", "missing.txt") == "\(path("missing.txt")): no such file; check the path")
            #expect(pairsError("r.txt", "c.txt") == "\(path("c.txt")): has 2 lines but \(path("r.txt")) has 3; "
                + "give one candidate per reference, on the same line")
            #expect(pairsError("empty.txt", "c.txt") == "\(path("empty.txt")): is empty; give one reference per line")
            #expect(textsError("bad.jsonl", jsonl: true) == "\(path("bad.jsonl")) line 2: is not a JSON string; "
                + #"with --jsonl each line must be one, such as "first\nsecond""#)
            #expect(textsError("latin1.txt") == "\(path("latin1.txt")): is not UTF-8 text; save it as UTF-8")
            #expect(textsError("") == "\(folder.path): is a folder; give a text file")
        }
    }
}
