import Engine
import Foundation

/// Each test example's own results, one JSON object per line in a run's outputs (`items-image.jsonl`,
/// `items-blind.jsonl`): its token-loss sum and token count, its ROUGE F-measures and CLIP cosine,
/// under the names the run's metrics use. Differences between two runs get a paired bootstrap
/// interval over these examples; the metrics themselves stay the corpus-level numbers.
public enum TestItems {
    public static let lossSum = "loss_sum", tokens = "tokens"

    public static func file(outputs: URL, condition: String) -> URL {
        outputs.appendingPathComponent("items-\(condition).jsonl")
    }

    public static func write(_ items: [[String: Double]], to url: URL) throws {
        var lines = ""
        for item in items {
            lines += String(decoding: try JSONSerialization.data(withJSONObject: item, options: [.sortedKeys]), as: UTF8.self) + "\n"
        }
        try writeAtomically(Data(lines.utf8), to: url)
    }

    /// The items of a run's file, in test-split order; nil when the run wrote none (made before
    /// per-example results were kept) or the file cannot be read.
    public static func read(_ url: URL) -> [[String: Double]]? {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return nil }
        var items: [[String: Double]] = []
        for line in text.split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            items.append(object.compactMapValues { ($0 as? NSNumber)?.doubleValue })
        }
        return items
    }
}
