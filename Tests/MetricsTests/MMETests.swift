import Foundation
import Metrics
import Testing

@Suite struct MMETests {
    struct Expected: Decodable {
        struct Subtask: Decodable {
            let name, category: String
            let labels: [String]
            let acc, accPlus, score: Double
        }
        let versions: [String: String]
        let subtasks: [Subtask]
        let perception, cognition, overall: Double
    }

    let folder = fixtures.appendingPathComponent("mme")

    /// Labels, acc and acc+ per subtask (tools/make_metric_fixtures.py, which follows calculation.py's
    /// rules; the scores and totals are also checked against calculation.py's own output below).
    @Test func fixtureFolderScoresAsTheOfficialRulesScoreIt() throws {
        let expected = try fixture("mme_expected", as: Expected.self)
        #expect(expected.versions["rules"] != nil, "the fixture says which calculation.py it follows")
        let scores = try MME.score(MME.readResults(folder))
        #expect(scores.subtasks.map(\.name) == MME.subtasks)
        #expect(scores.missing.isEmpty)
        for (got, want) in zip(scores.subtasks, expected.subtasks) {
            #expect(got.name == want.name && got.category.rawValue == want.category)
            #expect(got.labels.map(\.rawValue) == want.labels, "\(got.name) labels")
            #expect(abs(got.acc - want.acc) <= tolerance, "\(got.name) acc")
            #expect(abs(got.accPlus - want.accPlus) <= tolerance, "\(got.name) acc+")
            #expect(abs(got.score - want.score) <= tolerance, "\(got.name) score")
        }
        #expect(abs(scores.perception - expected.perception) <= tolerance)
        #expect(abs(scores.cognition - expected.cognition) <= tolerance)
        #expect(abs(scores.overall - expected.overall) <= tolerance)
    }

    /// What MME's own calculation.py printed for the fixture folder (tools/make_mme_official_fixture.py
    /// ran it): each subtask's score and the perception and cognition totals.
    @Test func fixtureFolderScoresAsMMEsOwnCalculationPrintsThem() throws {
        struct Printed: Decodable {
            let versions: [String: String]
            let stdout: String
        }
        let printed = try fixture("mme_calculation", as: Printed.self)
        #expect(printed.versions["calculation.py sha256"]?.count == 64, "the fixture names the script that printed it")
        var totals: [String: Double] = [:], subtasks: [String: Double] = [:]
        var section = ""
        for line in printed.stdout.split(separator: "\n", omittingEmptySubsequences: true) {
            let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
            if line.hasPrefix("===========") {
                section = words[1]
            } else if words.count == 3, words[0] == "total", words[1] == "score:" {
                totals[section] = try #require(Double(words[2]), "\(line)")
            } else if words.count == 3, words[1] == "score:" {
                subtasks[words[0]] = try #require(Double(words[2]), "\(line)")
            } else {
                Issue.record("unexpected line in calculation.py's output: \(line)")
            }
        }
        try #require(Set(totals.keys) == ["Perception", "Cognition"] && Set(subtasks.keys) == Set(MME.subtasks),
                     "calculation.py printed both totals and all 14 subtasks: \(totals.keys.sorted()), \(subtasks.keys.sorted())")

        let scores = try MME.score(MME.readResults(folder))
        for subtask in scores.subtasks {
            #expect(abs(subtask.score - subtasks[subtask.name]!) <= tolerance, "\(subtask.name): \(subtask.score) against \(subtasks[subtask.name]!)")
        }
        #expect(abs(scores.perception - totals["Perception"]!) <= tolerance, "perception \(scores.perception)")
        #expect(abs(scores.cognition - totals["Cognition"]!) <= tolerance, "cognition \(scores.cognition)")
        #expect(abs(scores.overall - totals["Perception"]! - totals["Cognition"]!) <= tolerance)
    }

    @Test(arguments: [
        ("Yes", MMEAnswer.yes), ("no.", .no), ("Not sure", .no), ("The answer is yes", .other), ("Y", .other),
        ("yes, it is", .yes), ("No, there is none", .no), ("", .other), ("  yes", .other), ("y.e.s", .other),
        ("nothing", .no), ("e\u{301}yes", .other),
    ])
    func replyLabels(reply: String, label: MMEAnswer) {
        #expect(MME.parseReply(reply) == label)
    }

    @Test func accPlusCountsImagesWithBothQuestionsRight() throws {
        func record(_ image: String, _ truth: MMEAnswer, _ reply: String) -> MMERecord {
            MMERecord(image: image, question: "Is it there?", groundTruth: truth, reply: reply)
        }
        let subtask = MMESubtask(name: "count", records: [
            record("a.png", .yes, "yes"), record("a.png", .no, "no"),
            record("b.png", .yes, "yes"), record("b.png", .no, "yes"),
        ])
        let score = try MME.score(subtask)
        #expect(score.correct == 3 && score.correctImages == 1 && score.images == 2)
        #expect(score.acc == 75 && score.accPlus == 50 && score.score == 125)
        let all = try MME.score([subtask])
        #expect(all.perception == 125 && all.cognition == 0 && all.missing.count == 13)
    }

    @Test func scoresAreExactWhereTheFractionIs() throws {
        // 40 images: the first 11 with both answers right, the other 29 with "yes" to both. 51 of 80
        // right (63.75) and 11 of 40 images (27.5): neither is exact when divided before multiplying by 100.
        let records = (0..<40).flatMap { image in
            [MMERecord(image: "\(image).png", question: "Is it there?", groundTruth: .yes, reply: "yes"),
             MMERecord(image: "\(image).png", question: "Is it there?", groundTruth: .no, reply: image < 11 ? "no" : "yes")]
        }
        let score = try MME.score(MMESubtask(name: "count", records: records))
        #expect(score.correct == 51 && score.correctImages == 11)
        #expect(score.acc == 63.75 && score.accPlus == 27.5 && score.score == 91.25)
    }

    @Test func writtenFilesReadBackAndKeepEachReplyOnOneLine() throws {
        let output = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        let original = try MME.read(folder.appendingPathComponent("count.txt"))
        try MME.write(original, to: output)
        let copy = try MME.read(output.appendingPathComponent("count.txt"))
        #expect(copy.records == original.records)

        var broken = original
        broken.records[0].reply = "yes\tit is\nthere"
        try MME.write(broken, to: output)
        let reread = try MME.read(output.appendingPathComponent("count.txt"))
        #expect(reread.records.count == original.records.count)
        #expect(reread.records[0].reply == "yes it is there")
    }

    /// The error reading one result file with these lines gives.
    func error(reading lines: String, name: String = "count") throws -> String? {
        let directory = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("\(name).txt")
        try Data(lines.utf8).write(to: file)
        return inputError { _ = try MME.score(MME.read(file)) }?.description
            .replacingOccurrences(of: directory.path, with: "DIR")
    }

    @Test func badFilesGiveOneLineNamingFileAndLine() throws {
        let rule = "MME needs exactly two questions per image, on consecutive lines"
        #expect(try error(reading: "a.png\tIs it?\tYes\tyes\na.png\tIs it?\tNo\n")
            == "DIR/count.txt line 2: has 3 tab-separated columns; MME's format has 4: image, question, ground truth, reply")
        #expect(try error(reading: "a.png\tIs it?\tYes\tyes\na.png\tIs it?\tNo\tno\tand more\n")
            == "DIR/count.txt line 2: has 5 tab-separated columns; MME's format has 4: image, question, ground truth, reply")
        #expect(try error(reading: "a.png\tIs it?\tYes\tyes\n\n")
            == "DIR/count.txt line 2: has 1 tab-separated column; MME's format has 4: image, question, ground truth, reply")
        #expect(try error(reading: "a.png\tIs it?\tMaybe\tyes\n")
            == "DIR/count.txt line 1: ground truth 'Maybe' is neither yes nor no; the third column must be Yes or No")
        #expect(try error(reading: "a.png\tQ1\tYes\tyes\na.png\tQ2\tNo\tno\nb.png\tQ1\tYes\tyes\nc.png\tQ1\tNo\tno\n")
            == "DIR/count.txt line 3: image 'b.png' has 1 question; \(rule)")
        #expect(try error(reading: "a.png\tQ1\tYes\tyes\na.png\tQ2\tNo\tno\na.png\tQ3\tNo\tno\n")
            == "DIR/count.txt line 1: image 'a.png' has 3 questions; \(rule)")
        #expect(try error(reading: "a.png\tQ1\tYes\tyes\na.png\tQ2\tNo\tno\nb.png\tQ1\tYes\tyes\nb.png\tQ2\tNo\tno\na.png\tQ3\tYes\tyes\na.png\tQ4\tNo\tno\n")
            == "DIR/count.txt line 5: image 'a.png' already had its questions from line 1; \(rule)")
        #expect(try error(reading: "") == "DIR/count.txt: has no questions; give two questions per image, or remove the file")
        #expect(try error(reading: "a.png\tQ1\tYes\tyes\na.png\tQ2\tNo\tno\n", name: "shapes")
            == "DIR/shapes.txt: 'shapes' is not an MME subtask; use one of \(MME.subtasks.joined(separator: ", "))")
    }

    @Test func aSubtaskGivenTwiceIsAnError() throws {
        let subtask = try MME.read(folder.appendingPathComponent("count.txt"))
        #expect(inputError { _ = try MME.score([subtask, subtask]) }?.description
            == "\(subtask.source): subtask 'count' is given twice; give each subtask once")
    }

    @Test func badFoldersGiveOneLineNamingTheFolder() throws {
        let empty = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: empty) }
        #expect(inputError { _ = try MME.readResults(empty) }?.description
            == "\(empty.path): has no MME result files; expected \(MME.subtasks.map { "\($0).txt" }.joined(separator: ", "))")
        let missing = empty.appendingPathComponent("nowhere")
        #expect(inputError { _ = try MME.readResults(missing) }?.description
            == "\(missing.path): no such folder; give the folder that holds MME's result files")
    }
}
