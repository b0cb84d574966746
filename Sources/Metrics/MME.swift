import Foundation

/// What a reply (or a ground truth) says under MME's rules.
public enum MMEAnswer: String, Sendable {
    case yes, no, other
}

/// One line of an MME result file: a yes/no question about an image, its answer and the reply.
public struct MMERecord: Equatable, Sendable {
    public var image: String
    public var question: String
    /// `.yes` or `.no`.
    public var groundTruth: MMEAnswer
    public var reply: String

    /// A record; the ground truth must be `.yes` or `.no`.
    public init(image: String, question: String, groundTruth: MMEAnswer, reply: String) {
        precondition(groundTruth != .other, "an MME ground truth is yes or no")
        self.image = image
        self.question = question
        self.groundTruth = groundTruth
        self.reply = reply
    }
}

/// The questions of one MME subtask (one result file), two consecutive ones per image.
public struct MMESubtask: Sendable {
    /// MME's name of the subtask, which is also its file name without ".txt" (e.g. "OCR").
    public let name: String
    public var records: [MMERecord]
    /// Where the records come from, named in errors: a file's path, or "<name>.txt".
    public let source: String

    /// A subtask; errors name `source`, by default the file `MME.write` would make.
    public init(name: String, records: [MMERecord], source: String? = nil) {
        self.name = name
        self.records = records
        self.source = source ?? "\(name).txt"
    }
}

/// One subtask's MME scores.
public struct MMESubtaskScore: Equatable, Sendable {
    public let name: String
    public let category: MME.Category
    /// Each reply's label, in question order.
    public let labels: [MMEAnswer]
    public let images: Int
    /// Questions answered right.
    public let correct: Int
    /// Images with both questions answered right.
    public let correctImages: Int
    /// acc x 100: the share of questions answered right, in percent.
    public let acc: Double
    /// acc+ x 100: the share of images with both questions right, in percent.
    public let accPlus: Double
    /// acc + acc+, 0-200.
    public let score: Double

    /// Replies that were neither yes nor no.
    public var other: Int { labels.filter { $0 == .other }.count }
}

/// MME scores of a set of subtasks.
public struct MMEScores: Sendable {
    /// The scored subtasks, in MME's order.
    public let subtasks: [MMESubtaskScore]
    /// The sum over the perception subtasks (at most 2000 with all ten).
    public let perception: Double
    /// The sum over the cognition subtasks (at most 800 with all four).
    public let cognition: Double
    /// MME's subtasks that were not scored.
    public let missing: [String]

    /// Perception plus cognition.
    public var overall: Double { perception + cognition }
}

/// MME's official scoring (eval_tool/calculation.py of the MME benchmark) and its result files.
///
/// A reply is lowercased and nothing else (the official script neither strips it nor removes
/// "."); it is "yes" or "no" if it equals one, else "yes" if its first 4 characters contain
/// "yes", else "no" if they contain "no", else "other", which is always wrong.
public enum MME {
    /// MME's two groups of subtasks.
    public enum Category: String, Sendable {
        case perception, cognition
    }

    /// The perception subtasks, in MME's order.
    public static let perceptionSubtasks = [
        "existence", "count", "position", "color", "posters", "celebrity", "scene", "landmark", "artwork", "OCR",
    ]
    /// The cognition subtasks, in MME's order.
    public static let cognitionSubtasks = [
        "commonsense_reasoning", "numerical_calculation", "text_translation", "code_reasoning",
    ]
    /// All subtasks, perception first.
    public static var subtasks: [String] { perceptionSubtasks + cognitionSubtasks }

    /// The group of an MME subtask; nil for a name MME does not have.
    public static func category(of subtask: String) -> Category? {
        if perceptionSubtasks.contains(subtask) { return .perception }
        if cognitionSubtasks.contains(subtask) { return .cognition }
        return nil
    }

    /// The label MME's rules give a reply.
    public static func parseReply(_ reply: String) -> MMEAnswer {
        let lowered = PythonText.lowercased(reply.unicodeScalars)
        if lowered.elementsEqual("yes".unicodeScalars) { return .yes }
        if lowered.elementsEqual("no".unicodeScalars) { return .no }
        // The first 4 code points, as Python slices; a Swift Character may hold several.
        let prefix = Array(lowered.prefix(4))
        if prefix.contains(Array("yes".unicodeScalars)) { return .yes }
        if prefix.contains(Array("no".unicodeScalars)) { return .no }
        return .other
    }

    /// acc, acc+ and their sum for one subtask; throws unless every image has exactly two
    /// questions on consecutive lines.
    public static func score(_ subtask: MMESubtask) throws -> MMESubtaskScore {
        let category = try checkedCategory(subtask)
        guard !subtask.records.isEmpty else {
            throw MetricsInputError(
                path: subtask.source, problem: "has no questions; give two questions per image, or remove the file")
        }
        try checkTwoQuestionsPerImage(subtask)
        let labels = subtask.records.map { parseReply($0.reply) }
        let right = zip(subtask.records, labels).map { $0.groundTruth == $1 }
        let images = subtask.records.count / 2
        let correctImages = (0..<images).filter { right[2 * $0] && right[2 * $0 + 1] }.count
        let correct = right.filter { $0 }.count
        // Times 100 before dividing: 51 of 80 is then 63.75 exactly (51 / 80 * 100 is 63.749...), so
        // scores that are equal subtract to 0 and a margin of 1.25 is not 1.2499.
        let acc = Double(100 * correct) / Double(right.count)
        let accPlus = Double(100 * correctImages) / Double(images)
        return MMESubtaskScore(
            name: subtask.name, category: category, labels: labels, images: images, correct: correct,
            correctImages: correctImages, acc: acc, accPlus: accPlus, score: acc + accPlus)
    }

    /// Every subtask's scores and the perception and cognition totals.
    public static func score(_ subtasks: [MMESubtask]) throws -> MMEScores {
        var byName: [String: MMESubtask] = [:]
        for subtask in subtasks {
            _ = try checkedCategory(subtask)
            guard byName[subtask.name] == nil else {
                throw MetricsInputError(
                    path: subtask.source, problem: "subtask '\(subtask.name)' is given twice; give each subtask once")
            }
            byName[subtask.name] = subtask
        }
        // MME's order, so that the totals add up in the order the official script adds them.
        let scores = try self.subtasks.compactMap { name in try byName[name].map(score) }
        func total(_ category: Category) -> Double {
            scores.filter { $0.category == category }.reduce(0) { $0 + $1.score }
        }
        return MMEScores(subtasks: scores, perception: total(.perception), cognition: total(.cognition),
                         missing: self.subtasks.filter { byName[$0] == nil })
    }

    private static func checkedCategory(_ subtask: MMESubtask) throws -> Category {
        guard let category = category(of: subtask.name) else {
            throw MetricsInputError(
                path: subtask.source,
                problem: "'\(subtask.name)' is not an MME subtask; use one of \(subtasks.joined(separator: ", "))")
        }
        return category
    }

    /// Consecutive lines of the same image form its questions; there must be exactly two, and
    /// an image may not come back later (the official script pairs lines blindly).
    private static func checkTwoQuestionsPerImage(_ subtask: MMESubtask) throws {
        let rule = "MME needs exactly two questions per image, on consecutive lines"
        var firstLine: [String: Int] = [:]
        var start = 0
        let records = subtask.records
        while start < records.count {
            let image = records[start].image
            var end = start + 1
            while end < records.count && records[end].image == image { end += 1 }
            if let earlier = firstLine[image] {
                throw MetricsInputError(
                    path: subtask.source, line: start + 1,
                    problem: "image '\(image)' already had its questions from line \(earlier); \(rule)")
            }
            guard end - start == 2 else {
                let questions = end - start == 1 ? "1 question" : "\(end - start) questions"
                throw MetricsInputError(
                    path: subtask.source, line: start + 1, problem: "image '\(image)' has \(questions); \(rule)")
            }
            firstLine[image] = start + 1
            start = end
        }
    }

    // MARK: - Result files

    /// One result file: lines of `image<TAB>question<TAB>ground truth<TAB>reply`; the subtask is
    /// named after the file.
    public static func read(_ file: URL) throws -> MMESubtask {
        let name = file.deletingPathExtension().lastPathComponent
        let records = try TextInput.lines(of: file).enumerated().map { index, line in
            let columns = line.unicodeScalars.split(separator: "\t", omittingEmptySubsequences: false)
                .map(PythonText.string)
            guard columns.count == 4 else {
                throw MetricsInputError(
                    path: file.path, line: index + 1,
                    problem: "has \(columns.count) tab-separated column\(columns.count == 1 ? "" : "s"); "
                        + "MME's format has 4: image, question, ground truth, reply")
            }
            let truth = MMEAnswer(rawValue: PythonText.string(PythonText.lowercased(columns[2].unicodeScalars)))
            guard let truth, truth != .other else {
                throw MetricsInputError(
                    path: file.path, line: index + 1,
                    problem: "ground truth '\(columns[2])' is neither yes nor no; the third column must be Yes or No")
            }
            return MMERecord(image: columns[0], question: columns[1], groundTruth: truth, reply: columns[3])
        }
        return MMESubtask(name: name, records: records, source: file.path)
    }

    /// The result files of a folder: `<subtask>.txt` for each of MME's subtasks that is there.
    public static func readResults(_ directory: URL) throws -> [MMESubtask] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw MetricsInputError(
                path: directory.path, problem: "no such folder; give the folder that holds MME's result files")
        }
        let files = subtasks.map { directory.appendingPathComponent("\($0).txt") }
            .filter { FileManager.default.fileExists(atPath: $0.path) }
        guard !files.isEmpty else {
            throw MetricsInputError(
                path: directory.path,
                problem: "has no MME result files; expected \(subtasks.map { "\($0).txt" }.joined(separator: ", "))")
        }
        return try files.map(read)
    }

    /// Writes `<directory>/<subtask name>.txt` in MME's format, creating the folder if needed.
    ///
    /// A field cannot hold a tab or a line break in this format (MME's readme asks to delete
    /// them), so each becomes a space; that never changes a reply's label.
    public static func write(_ subtask: MMESubtask, to directory: URL) throws {
        func field(_ text: String) -> String {
            PythonText.string(text.unicodeScalars.map { ["\t", "\n", "\r"].contains($0) ? " " : $0 })
        }
        let text = subtask.records.map { record in
            let truth = record.groundTruth == .yes ? "Yes" : "No"
            return [field(record.image), field(record.question), truth, field(record.reply)].joined(separator: "\t") + "\n"
        }.joined()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: directory.appendingPathComponent("\(subtask.name).txt"), options: .atomic)
    }
}
