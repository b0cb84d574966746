import Foundation

/// Input that cannot be scored: the file (and line) and what is wrong with it.
public struct MetricsInputError: Error, CustomStringConvertible, Equatable {
    public let path: String
    /// The 1-based line, when the problem is on one line.
    public let line: Int?
    public let problem: String

    /// An error about `path` (and `line`, when given).
    public init(path: String, line: Int? = nil, problem: String) {
        self.path = path
        self.line = line
        self.problem = problem
    }

    public var description: String {
        line.map { "\(path) line \($0): \(problem)" } ?? "\(path): \(problem)"
    }
}

/// Reads the text files the metrics score: one text per line, or one JSON string per line.
public enum TextInput {
    /// The lines of a UTF-8 text file, split as Python's text mode splits them ("\n", "\r\n" or
    /// "\r"); a final line break does not start another line.
    public static func lines(of url: URL) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw MetricsInputError(path: url.path, problem: "no such file; check the path")
        }
        guard !isDirectory.boolValue else {
            throw MetricsInputError(path: url.path, problem: "is a folder; give a text file")
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw MetricsInputError(path: url.path, problem: "cannot be read (\(error.localizedDescription))")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw MetricsInputError(path: url.path, problem: "is not UTF-8 text; save it as UTF-8")
        }
        return splitLines(text)
    }

    /// The texts of a file: each line is one text, or with `jsonl` each line is a JSON string
    /// (which may hold line breaks, as ROUGE-Lsum's sentences need).
    public static func texts(of url: URL, jsonl: Bool) throws -> [String] {
        let lines = try lines(of: url)
        guard jsonl else { return lines }
        return try lines.enumerated().map { index, line in
            guard let text = try? JSONDecoder().decode(String.self, from: Data(line.utf8)) else {
                throw MetricsInputError(
                    path: url.path, line: index + 1,
                    problem: #"is not a JSON string; with --jsonl each line must be one, such as "first\nsecond""#)
            }
            return text
        }
    }

    /// References and candidates from two files that pair up line by line.
    public static func pairs(references: URL, candidates: URL, jsonl: Bool) throws
        -> (references: [String], candidates: [String])
    {
        let referenceTexts = try texts(of: references, jsonl: jsonl)
        let candidateTexts = try texts(of: candidates, jsonl: jsonl)
        guard !referenceTexts.isEmpty else {
            throw MetricsInputError(path: references.path, problem: "is empty; give one reference per line")
        }
        guard referenceTexts.count == candidateTexts.count else {
            throw MetricsInputError(
                path: candidates.path,
                problem: "has \(candidateTexts.count) lines but \(references.path) has \(referenceTexts.count); "
                    + "give one candidate per reference, on the same line")
        }
        return (referenceTexts, candidateTexts)
    }

    /// `text` split at "\n", "\r\n" and "\r", by code points (Swift sees "\r\n" as one character).
    static func splitLines(_ text: String) -> [String] {
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        var afterCarriageReturn = false
        for scalar in text.unicodeScalars {
            if scalar == "\n" && afterCarriageReturn {
                afterCarriageReturn = false
                continue
            }
            afterCarriageReturn = scalar == "\r"
            if scalar == "\n" || scalar == "\r" {
                lines.append(String(current))
                current = String.UnicodeScalarView()
            } else {
                current.append(scalar)
            }
        }
        if !current.isEmpty { lines.append(String(current)) }
        return lines
    }
}
