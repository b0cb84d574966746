import Foundation
import Metrics
import Study

/// The fresh result of one study: its newest finished run for the study's current hash.
public struct StudyResult: Sendable {
    public let study: ResolvedStudy
    public let run: RunRecord
    public let metrics: [MetricRecord]
    public let curve: [CurvePoint]
    /// The run's replies to the MME-style benchmark (with the images) that MME's rules read as a
    /// yes or a no, of all its replies; nil when the run wrote no benchmark files.
    public var benchmarkReplies: ReplyCount? = nil

    /// A stored number; parameter counts describe the model, so the blind condition falls back to
    /// the images' count when it has none of its own.
    public func value(_ name: String, condition: String = MetricName.image) -> Double? {
        if let own = metrics.first(where: { $0.condition == condition && $0.name == name }) { return own.value }
        guard ReportMetric.named(name)?.describesModel == true, condition != MetricName.image else { return nil }
        return value(name, condition: MetricName.image)
    }

    /// The held-out curve: the held-out loss every `train.eval_every` steps, at checkpoints and at
    /// the last step (at checkpoints only in runs stored before the curve was dense), in step order.
    public var heldOutCurve: [(step: Int, loss: Double)] {
        curve.compactMap { point in point.evalLoss.map { (point.step, $0) } }
    }

    /// The loss of the fixed slice of training rows at the held-out curve's points, in evaluation
    /// mode (empty for runs stored before it was measured).
    public var trainingSliceCurve: [(step: Int, loss: Double)] {
        curve.compactMap { point in point.trainEvalLoss.map { (point.step, $0) } }
    }
}

/// How many of a run's benchmark replies were a yes or a no (MME scores any other reply wrong).
public struct ReplyCount: Sendable, Equatable {
    public let yesOrNo: Int
    public let total: Int

    public init(yesOrNo: Int, total: Int) {
        self.yesOrNo = yesOrNo
        self.total = total
    }

    /// Counted from the result files in `folder`; nil when there are none.
    static func read(_ folder: URL) -> ReplyCount? {
        guard let subtasks = try? MME.readResults(folder) else { return nil }
        let replies = subtasks.flatMap(\.records).map { MME.parseReply($0.reply) }
        return ReplyCount(yesOrNo: replies.filter { $0 != .other }.count, total: replies.count)
    }
}

/// A study the report needs but cannot show, and why.
public struct MissingResult: Sendable, Equatable, CustomStringConvertible {
    public let study: String
    /// What stands in the store instead, in a few words ("" when there is nothing).
    public let state: String
    /// The command that makes the result.
    public let command: String

    public var text: Text {
        "\(study) has no finished run for its current configuration\(state.isEmpty ? "" : " (\(state))"); run \(code: command)"
    }

    public var description: String { text.plain }
}

/// What the store holds for the studies a report shows.
public struct StoredResults: Sendable {
    public let results: [String: StudyResult]
    /// In the order the studies were asked for.
    public let missing: [MissingResult]

    public init(results: [String: StudyResult], missing: [MissingResult]) {
        self.results = results
        self.missing = missing
    }

    public subscript(study: String) -> StudyResult? { results[study] }

    public func value(_ study: String, _ metric: String, condition: String = MetricName.image) -> Double? {
        results[study]?.value(metric, condition: condition)
    }

    /// Reads the results of the named studies from the workspace's store, without creating the
    /// store: an empty or absent workspace leaves every study missing.
    public static func read(workspace: URL, catalog: StudyCatalog, studies names: [String]) throws -> StoredResults {
        let studies = try names.map { try catalog.study(named: $0) }
        let store = try ResultsStore.existing(workspace: workspace)
        var results: [String: StudyResult] = [:]
        var missing: [MissingResult] = []
        for study in studies {
            let latest = try store?.latestRun(study: study.name, hash: study.hash)
            if let store, let run = latest, run.status == .finished, let id = run.id {
                var result = StudyResult(study: study, run: run, metrics: try store.metrics(runId: id), curve: try store.curve(runId: id))
                result.benchmarkReplies = ReplyCount.read(Workspace(workspace).benchmarkFolder(study: study.name, hash: study.hash, condition: MetricName.image))
                results[study.name] = result
                continue
            }
            let state: String
            switch latest?.status {
            case .running: state = "a run is under way, process \(latest!.pid)"
            case .failed: state = "its last run failed: \(latest!.error ?? "no error recorded")"
            default: state = try store?.latestRun(study: study.name) != nil ? "the stored runs are for an earlier configuration" : ""
            }
            // `repro run` takes a study by any unique prefix: the experiment's number when it is one.
            let short = String(study.name.prefix { $0 != "-" })
            let name = catalog.studies.filter { $0.name.hasPrefix(short) }.count == 1 ? short : study.name
            missing.append(MissingResult(study: study.name, state: state,
                                         command: "repro run \(name)" + (catalog.profile.map { " --profile \($0)" } ?? "")))
        }
        return StoredResults(results: results, missing: missing)
    }
}
