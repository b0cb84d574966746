import Foundation
import TOMLKit

/// A parsed study file as plain values, each remembering the file that set it, so that a problem
/// found after `extends` and profiles are merged can still name the file and key to fix.
indirect enum StudyValue: Equatable {
    case table([String: StudyValue])
    case array([StudyValue])
    case string(String)
    case integer(Int)
    case real(Double)
    case boolean(Bool)

    /// Reads a TOML table; dates and times are rejected (no study key takes one).
    init(toml table: TOMLTable, file: String) throws {
        var fields: [String: StudyValue] = [:]
        for key in table.keys {
            fields[key] = try StudyValue(tomlValue: table[key]!, file: file, key: key)
        }
        self = .table(fields)
    }

    private init(tomlValue value: TOMLValueConvertible, file: String, key: String) throws {
        switch value.type {
        case .table: self = try StudyValue(toml: value.table!, file: file)
        case .array: self = .array(try value.array!.map { try StudyValue(tomlValue: $0, file: file, key: key) })
        case .string: self = .string(value.string!)
        case .int: self = .integer(value.int!)
        case .double: self = .real(value.double!)
        case .bool: self = .boolean(value.bool!)
        default: throw StudyError(file: file, key: key, problem: "dates and times are not study values")
        }
    }

    var table: [String: StudyValue]? {
        if case .table(let fields) = self { return fields }
        return nil
    }

    /// The value as Foundation objects, for JSON encoding and decoding.
    var foundation: Any {
        switch self {
        case .table(let fields): return fields.mapValues(\.foundation)
        case .array(let items): return items.map(\.foundation)
        case .string(let s): return s
        case .integer(let i): return i
        case .real(let d): return d
        case .boolean(let b): return b
        }
    }

    /// A short name of the value's type, for error messages.
    var typeName: String {
        switch self {
        case .table: return "a table"
        case .array: return "an array"
        case .string: return "a string"
        case .integer: return "an integer"
        case .real: return "a number"
        case .boolean: return "a boolean"
        }
    }

    /// Builds a value from Foundation objects (the JSON form of a default spec).
    init?(foundation object: Any) {
        switch object {
        case let b as Bool where type(of: object) == Bool.self: self = .boolean(b)
        case let fields as [String: Any]:
            var out: [String: StudyValue] = [:]
            for (key, value) in fields {
                guard let converted = StudyValue(foundation: value) else { return nil }
                out[key] = converted
            }
            self = .table(out)
        case let items as [Any]:
            let converted = items.compactMap(StudyValue.init(foundation:))
            guard converted.count == items.count else { return nil }
            self = .array(converted)
        case let s as String: self = .string(s)
        case let i as Int: self = .integer(i)
        case let d as Double: self = .real(d)
        default: return nil
        }
    }
}

/// Which file set each key path ("train.epochs") of a merged study.
typealias KeySources = [String: String]

/// A study tree and the provenance of its keys.
struct SourcedTree {
    var fields: [String: StudyValue]
    var provenance: KeySources
    /// The file being resolved: where keys that no file set are reported.
    var origin: String?

    init(fields: [String: StudyValue] = [:], file: String? = nil) {
        self.fields = fields
        provenance = [:]
        origin = file
        if let file { SourcedTree.mark(fields, prefix: "", file: file, into: &provenance) }
    }

    private static func mark(_ fields: [String: StudyValue], prefix: String, file: String, into provenance: inout KeySources) {
        for (key, value) in fields {
            let path = prefix.isEmpty ? key : "\(prefix).\(key)"
            provenance[path] = file
            if let table = value.table { mark(table, prefix: path, file: file, into: &provenance) }
        }
    }

    /// Overlays `other`: tables merge key by key, everything else is replaced.
    mutating func overlay(_ other: SourcedTree) {
        fields = SourcedTree.merge(fields, other.fields)
        provenance.merge(other.provenance) { _, new in new }
        origin = other.origin ?? origin
    }

    private static func merge(_ base: [String: StudyValue], _ top: [String: StudyValue]) -> [String: StudyValue] {
        var out = base
        for (key, value) in top {
            if let a = base[key]?.table, let b = value.table {
                out[key] = .table(merge(a, b))
            } else {
                out[key] = value
            }
        }
        return out
    }

    /// The file that set `path`, or of its nearest parent that has one.
    func file(of path: String) -> String {
        var parts = path.split(separator: ".").map(String.init)
        while !parts.isEmpty {
            if let file = provenance[parts.joined(separator: ".")] { return file }
            parts.removeLast()
        }
        return origin ?? "study"
    }
}

/// A study that cannot be used: the file, the key, and what is wrong.
public struct StudyError: Error, CustomStringConvertible, Equatable, Sendable {
    public let file: String
    public let key: String?
    public let problem: String

    public init(file: String, key: String?, problem: String) {
        self.file = file
        self.key = key
        self.problem = problem
    }

    public var description: String { key.map { "\(file): \($0): \(problem)" } ?? "\(file): \(problem)" }
}

/// Several problems at once, one line each.
public struct StudyErrors: Error, CustomStringConvertible, Sendable {
    public let errors: [StudyError]

    public init(errors: [StudyError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// Parses TOML text, every problem as a `StudyError` naming `file` and the line.
///
/// The TOML parser TOMLKit bundles (toml++) aborts the process, by an assertion rather than an
/// error, on a table header whose key starts with a character a key cannot have (`[,name]`, or `[`
/// then a newline); such headers are refused here first.
public func parseTOML(_ text: String, file: String) throws -> TOMLTable {
    var inMultilineString: String?
    let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
    let keyStart: (Substring) -> Bool = { $0.first.map { $0.isASCII && ($0.isLetter || $0.isNumber || "_-\"'".contains($0)) } ?? false }
    for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        for delimiter in ["\"\"\"", "'''"] where inMultilineString == nil || inMultilineString == delimiter {
            if line.components(separatedBy: delimiter).count % 2 == 0 { inMultilineString = inMultilineString == nil ? delimiter : nil }
        }
        let trimmed = line.drop(while: blank)
        guard inMultilineString == nil, trimmed.hasPrefix("[") else { continue }
        let header = trimmed.drop { $0 == "[" }
        let keys = header.prefix { $0 != "]" }.split(separator: ".", omittingEmptySubsequences: false).map { $0.drop(while: blank) }
        let quoted = header.contains { "\"'".contains($0) }
        guard header.contains("]"), quoted ? keyStart(keys[0]) : keys.allSatisfy(keyStart) else {
            throw StudyError(file: file, key: nil, problem: "line \(index + 1): '\(trimmed)' is not a table header: write [name] or [name.subname], closed on its line")
        }
    }
    do {
        return try TOMLTable(string: text)
    } catch let error as TOMLParseError {
        throw StudyError(file: file, key: nil, problem: "line \(error.source.begin.line): \(error.description)")
    }
}
