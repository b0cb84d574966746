import Foundation
import Study
import TOMLKit

/// Reads a TOML file key by key and collects every problem as one line naming the file and the key,
/// so that a user fixes them all at once.
struct TOMLReader {
    let file: String
    private(set) var problems: [StudyError] = []

    /// Parses the file; a file that cannot be read or parsed is one problem, thrown at once.
    static func open(_ url: URL) throws -> (TOMLTable, TOMLReader) {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw StudyError(file: url.path, key: nil, problem: "cannot be read")
        }
        return (try parseTOML(text, file: url.path), TOMLReader(file: url.path))
    }

    mutating func problem(_ key: String, _ text: String) {
        problems.append(StudyError(file: file, key: key, problem: text))
    }

    /// Throws the problems found so far, if any.
    func check() throws {
        if !problems.isEmpty { throw StudyErrors(errors: problems) }
    }

    /// Names every key of `table` outside `known`.
    mutating func onlyKeys(_ table: TOMLTable, _ known: [String], at path: String) {
        for key in table.keys.sorted() where !known.contains(key) {
            problem(join(path, key), "unknown key (known here: \(known.sorted().joined(separator: ", ")))")
        }
    }

    mutating func string(_ table: TOMLTable, _ key: String, at path: String) -> String? {
        value(table, key, at: path, expected: "a string") { $0.string }
    }

    /// A number; an integer is taken as one too (a user writes `at_least = 42`).
    mutating func number(_ table: TOMLTable, _ key: String, at path: String) -> Double? {
        value(table, key, at: path, expected: "a number") { $0.double ?? $0.int.map(Double.init) }
    }

    mutating func bool(_ table: TOMLTable, _ key: String, at path: String) -> Bool? {
        value(table, key, at: path, expected: "true or false") { $0.bool }
    }

    mutating func table(_ table: TOMLTable, _ key: String, at path: String) -> TOMLTable? {
        value(table, key, at: path, expected: "a table") { $0.table }
    }

    mutating func strings(_ table: TOMLTable, _ key: String, at path: String) -> [String]? {
        guard let array = value(table, key, at: path, expected: "an array of strings", { $0.array }) else { return nil }
        let items = array.map(\.string)
        guard items.allSatisfy({ $0 != nil }) else {
            problem(join(path, key), "expected an array of strings")
            return nil
        }
        return items.map { $0! }
    }

    /// An array of tables (inline `{ ... }` items or `[[key]]` sections).
    mutating func tables(_ table: TOMLTable, _ key: String, at path: String) -> [TOMLTable]? {
        guard let array = value(table, key, at: path, expected: "an array of tables", { $0.array }) else { return nil }
        let items = array.map(\.table)
        guard items.allSatisfy({ $0 != nil }) else {
            problem(join(path, key), "expected an array of tables")
            return nil
        }
        return items.map { $0! }
    }

    private mutating func value<T>(_ table: TOMLTable, _ key: String, at path: String, expected: String,
                                   _ convert: (TOMLValueConvertible) -> T?) -> T? {
        guard let raw = table[key] else {
            problem(join(path, key), "missing (expected \(expected))")
            return nil
        }
        guard let converted = convert(raw) else {
            problem(join(path, key), "expected \(expected), got \(raw.type)")
            return nil
        }
        return converted
    }

    func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
}
