import Foundation
import Metrics
import Testing

/// The folder of fixtures written by tools/make_metric_fixtures.py.
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

/// Reads a JSON fixture.
func fixture<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return try decoder.decode(type, from: Data(contentsOf: fixtures.appendingPathComponent("\(name).json")))
}

/// Values computed in Float64 the same way as the reference, so only summation order can differ.
let tolerance = 1e-9

/// text_pairs.json: rouge-score and sacrebleu on reference/candidate pairs.
struct TextPairs: Decodable {
    struct Pair: Decodable { let reference, candidate: String }
    struct Score: Decodable { let precision, recall, fmeasure: Double }
    struct Tokens: Decodable { let text: String; let rouge, rougeStemmed, bleuTokens: [String] }
    struct BLEUValues: Decodable {
        let score: Double
        let counts, totals: [Int]
        let precisions: [Double]
        let bp: Double
        let sysLen, refLen: Int
    }
    struct CorpusBLEU: Decodable {
        let name: String
        let indices: [Int]
        let score: Double
        let counts, totals: [Int]
        let precisions: [Double]
        let bp: Double
        let sysLen, refLen: Int
        var values: BLEUValues {
            BLEUValues(score: score, counts: counts, totals: totals, precisions: precisions, bp: bp,
                       sysLen: sysLen, refLen: refLen)
        }
    }
    struct SentenceBLEU: Decodable { let effectiveOrder, plain: BLEUValues }

    let versions: [String: String]
    let pairs: [Pair]
    /// "plain" and "stemmed": per pair, per ROUGE type.
    let rouge: [String: [[String: Score]]]
    let rougeCorpus: [String: [String: Double]]
    let bleuCorpus: [CorpusBLEU]
    let bleuSentence: [SentenceBLEU]
    let tokens: [Tokens]

    static func load() throws -> TextPairs { try fixture("text_pairs", as: TextPairs.self) }
}

/// A fresh temporary folder for one test, removed by the caller.
func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The `MetricsInputError` a closure throws, if it throws one.
func inputError(_ body: () throws -> Void) -> MetricsInputError? {
    do {
        try body()
        return nil
    } catch {
        return error as? MetricsInputError
    }
}
