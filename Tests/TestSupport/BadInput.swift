import Foundation
import Metrics

/// The bad-input corpus, `Tests/BadInput` (inputs written by tools/make_bad_inputs.py): for each
/// kind of file repro reads, broken cases, each a file or a folder beside a `.expected` file that
/// holds the exact error it must produce, with the kind's folder shown as DIR.
public enum BadInput {
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("BadInput")

    public struct Case: Sendable {
        /// The broken file, or the folder holding a broken set of files.
        public let input: URL
        public let expected: String
    }

    /// The cases of one kind (a folder of `root`), sorted by name. Fewer than `atLeast` cases, or an
    /// `.expected` file without its input, is an error: a corpus folder that lost its cases (or was
    /// never filled) must not pass as a corpus whose every case passed.
    public static func cases(_ kind: String, atLeast minimum: Int) throws -> [Case] {
        let folder = root.appendingPathComponent(kind)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        let cases = try names.filter { !$0.hasSuffix(".expected") }.map { name in
            let input = folder.appendingPathComponent(name)
            let stem = name.split(separator: ".", maxSplits: 1).first.map(String.init) ?? name
            let expected = try String(contentsOf: folder.appendingPathComponent(stem + ".expected"), encoding: .utf8)
            return Case(input: input, expected: expected.trimmingCharacters(in: .newlines))
        }
        let stems = Set(cases.map { $0.input.lastPathComponent.split(separator: ".", maxSplits: 1).first.map(String.init) ?? "" })
        let orphans = names.filter { $0.hasSuffix(".expected") && !stems.contains(String($0.dropLast(".expected".count))) }
        guard orphans.isEmpty else { throw CorpusError("\(folder.path): \(orphans.joined(separator: ", ")) without the input beside it") }
        guard cases.count >= minimum else {
            throw CorpusError("\(folder.path): \(cases.count) cases, expected at least \(minimum) (run tools/make_bad_inputs.py)")
        }
        return cases
    }

    public struct CorpusError: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// What `body` throws, as the user reads it, with the kind's folder shown as DIR; nil when it throws nothing.
    public static func message(_ kind: String, _ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch {
            return "\(error)".replacingOccurrences(of: root.appendingPathComponent(kind).path, with: "DIR")
        }
    }
}

/// Random mutations of valid inputs, for fuzzing readers: a seeded generator (splitmix64), so that a
/// failing case can be replayed from its seed.
public struct Mutator {
    private var generator: SplitMix64

    public init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    public mutating func next() -> UInt64 { generator.next() }

    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }

    /// `bytes` with one to four random edits: a byte flipped, set to an interesting value,
    /// inserted, deleted, or the tail cut off.
    public mutating func mutate(_ bytes: [UInt8]) -> [UInt8] {
        var out = bytes
        for _ in 0...below(4) {
            let at = below(out.count + 1)
            switch below(5) {
            case 0 where at < out.count: out[at] ^= UInt8(1 << below(8))
            case 1 where at < out.count: out[at] = [0, 0xFF, 0x7F, 0x80, 0x22, 0x5B, 0x7B, 0x2C, 0x3D, 0x0A][below(10)]
            case 2: out.insert(UInt8(truncatingIfNeeded: next()), at: at)
            case 3 where at < out.count: out.remove(at: at)
            case 4: out = Array(out.prefix(at))
            default: break
            }
        }
        return out
    }
}
