import Foundation

/// The real VL-RewardBench, exported to a folder as `data.jsonl` plus image files
/// (`tools/export_vlrewardbench.py` writes that layout from the Hub's parquet file).
///
/// Each line of `data.jsonl` is one JSON object with `id`, `query`, `response` (2 strings),
/// `human_ranking` (2 integers; the preferred response is the one ranked 0), `query_source` and
/// `image` (a PNG path relative to the folder). The row count is whatever the file holds.
public enum VLRewardBench {
    /// The group of each `query_source` VL-RewardBench uses (and the group names themselves).
    static let groups: [String: QueryGroup] = [
        "wildvision": .general, "vlfeedback": .general, "general": .general,
        "povid": .hallucination, "rlaif-v": .hallucination, "rlhf-v": .hallucination, "hallucination": .hallucination,
        "mmmu-pro": .reasoning, "mathverse": .reasoning, "reasoning": .reasoning,
    ]

    /// Reads every row and checks that its image is a PNG that decodes at `imageSize`; throws one
    /// error listing one line per bad row ("<file>:<line>: <problem>").
    public static func load(folder: URL, imageSize: Int) throws -> [RewardSample] {
        let file = folder.appendingPathComponent("data.jsonl")
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw DataError("\(file.path): not found (export the dataset with tools/export_vlrewardbench.py)")
        }
        var samples: [RewardSample] = []
        var problems: [String] = []
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() where !line.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            do {
                samples.append(try sample(String(line), folder: folder, imageSize: imageSize))
            } catch let error as DataError {
                problems.append("\(file.path):\(index + 1): \(error.description)")
            }
        }
        guard problems.isEmpty else { throw DataError(problems.joined(separator: "\n")) }
        guard !samples.isEmpty else { throw DataError("\(file.path): has no rows") }
        return samples
    }

    /// One row, or the one problem that makes it unusable.
    private static func sample(_ line: String, folder: URL, imageSize: Int) throws -> RewardSample {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
            throw DataError("not a valid JSON object")
        }
        func field<T>(_ name: String, as type: T.Type, _ expected: String, valid: (T) -> Bool = { _ in true }) throws -> T {
            guard let value = object[name] else { throw DataError("missing field '\(name)'") }
            guard let typed = value as? T, valid(typed) else { throw DataError("field '\(name)' must be \(expected)") }
            return typed
        }
        let id = try field("id", as: String.self, "a string")
        let query = try field("query", as: String.self, "a string")
        let responses = try field("response", as: [String].self, "a list of 2 strings") { $0.count == 2 }
        let ranking = try field("human_ranking", as: [Any].self, "a list of 2 integers") { list in
            list.count == 2 && list.allSatisfy(isInteger)
        }.map { ($0 as! NSNumber).intValue }
        let source = try field("query_source", as: String.self, "a string")
        let imagePath = try field("image", as: String.self, "a string (the image's path relative to the folder)")
        guard let preferred = ranking.firstIndex(of: 0) else {
            throw DataError("field 'human_ranking' is \(ranking), which has no 0, so no response is preferred")
        }
        guard let group = groups[source.lowercased()] else {
            throw DataError("field 'query_source' is '\(source)', not one of \(groups.keys.sorted().joined(separator: ", "))")
        }
        let imageURL = folder.appendingPathComponent(imagePath)
        do {
            _ = try RGBImage.readPNG(imageURL, resizedTo: imageSize)
        } catch {
            throw DataError("image '\(imagePath)' \(error)")
        }
        return RewardSample(id: id, image: .file(imageURL), query: query, response: responses[preferred], querySource: source, group: group)
    }

    /// Whether a JSON value is an integer (not a fraction, not a boolean, which Foundation also bridges to NSNumber).
    private static func isInteger(_ value: Any) -> Bool {
        // Foundation reads JSON true and false as NSNumbers of type "c" (char).
        guard let number = value as? NSNumber, String(cString: number.objCType) != "c" else { return false }
        return number.doubleValue == number.doubleValue.rounded()
    }
}
