import Foundation
import Metrics
import Study

/// The committed run's numbers, per study and seed (`paper/reference-run.json`), so that someone
/// who runs `make paper` elsewhere (another CPU: other OpenBLAS kernels, other bits) learns whether
/// their run is consistent with the committed one, not only with the paper.
public struct ReferenceRun: Codable, Sendable, Equatable {
    /// The profile it ran under ("full": none); only a run of the same profile is compared with it.
    public var profile: String
    public var commit: String
    public var machine: String
    public var blas: String
    /// Study -> one metric table per seed, in seed order (Table 1's metrics, with the images).
    public var studies: [String: [[String: Double]]]

    public static let fileName = "reference-run.json"

    /// The stored results of `studies` as a reference.
    public init(results: StoredResults, studies: [String], profile: String?) {
        let runs = studies.flatMap { results.replicates[$0] ?? [] }
        self.profile = profile ?? "full"
        commit = Set(runs.map(\.run.commit)).sorted().joined(separator: ", ")
        machine = Set(runs.map(\.run.machine)).sorted().joined(separator: "; ")
        blas = Set(runs.map(\.run.blas)).sorted().joined(separator: "; ")
        self.studies = Dictionary(uniqueKeysWithValues: studies.compactMap { study in
            results.replicates[study].map { runs in
                (study, runs.map { run in Dictionary(uniqueKeysWithValues: ReportMetric.table1.compactMap { metric in run.value(metric.name).map { (metric.name, $0) } }) })
            }
        })
    }

    public func write(to folder: URL) throws -> URL {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let url = folder.appendingPathComponent(Self.fileName)
        try encoder.encode(self).write(to: url, options: .atomic)
        return url
    }

    /// The reference in `folder`, nil when there is none; a file that cannot be read is named.
    public static func read(from folder: URL) throws -> ReferenceRun? {
        let url = folder.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            return try JSONDecoder().decode(ReferenceRun.self, from: Data(contentsOf: url))
        } catch {
            throw StudyError(file: url.path, key: nil, problem: "\(error is DecodingError ? "is not a reference run (its JSON does not match)" : "cannot be read"); write it again with `repro report --save-reference`")
        }
    }

    /// Whether `values` (one per seed of this run) are consistent with `reference` (the committed
    /// seeds'): with one value, inside the 95% prediction interval for one more seed of the
    /// reference; with several, Welch's two-sample t-test does not reject equal means at 5%;
    /// against a single reference value, only equal bits are consistent. nil when it cannot be told.
    public static func consistent(_ values: [Double], with reference: [Double]) -> Bool? {
        guard !values.isEmpty, !reference.isEmpty else { return nil }
        if Set(values + reference).count == 1 { return true }
        guard reference.count > 1 else { return nil }
        if values.count == 1 {
            guard let interval = StudentInterval.prediction(reference) else { return nil }
            return values[0] >= interval.lower && values[0] <= interval.upper
        }
        guard let test = TTest.welch(values, reference) else { return nil }
        // Both without spread and different means: scipy's NaN p, and plainly not the same.
        return test.pValue.isNaN ? false : test.pValue >= 0.05
    }
}
