import Foundation
import Metrics
import Study

/// The fresh result of one study's replicate: its newest finished run for the replicate's current hash.
public struct StudyResult: Sendable {
    public let study: ResolvedStudy
    public let run: RunRecord
    public let metrics: [MetricRecord]
    public let curve: [CurvePoint]
    /// The run's replies to the MME-style benchmark (with the images) that MME's rules read as a
    /// yes or a no, of all its replies; nil when the run wrote no benchmark files.
    public var benchmarkReplies: ReplyCount? = nil
    /// Each test example's results with the images (`TestItems`), in test-split order; nil when
    /// the run kept none.
    public var items: [[String: Double]]? = nil

    /// A stored number; parameter counts describe the model, so the blind condition falls back to
    /// the images' count when it has none of its own.
    public func value(_ name: String, condition: String = MetricName.image) -> Double? {
        if let own = metrics.first(where: { $0.condition == condition && $0.name == name }) { return own.value }
        guard ReportMetric.named(name)?.describesModel == true, condition != MetricName.image else { return nil }
        return value(name, condition: MetricName.image)
    }

    /// The parts of the model (a tensor name's first component: `vision_model`, `qformer`, ...) whose
    /// tensors started from fresh weights instead of the studies the run starts from, sorted; nil
    /// when the run recorded no tensors.
    public var freshParts: [String]? {
        let tensors = run.tensors
        guard !tensors.loaded.isEmpty || !tensors.fresh.isEmpty else { return nil }
        return Set(tensors.fresh.map { String($0.prefix { $0 != "." }) }).sorted()
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
    /// The replicate without a result (`exp03-medium-enhanced@2`).
    public let study: String
    /// The study it is a replicate of, as paper.toml names it.
    public var base: String { String(study.prefix { $0 != "@" }) }
    /// What stands in the store instead, in a few words ("" when there is nothing).
    public let state: String
    /// The command that makes the result.
    public let command: String

    public var text: Text {
        "\(study) has no finished run for its current configuration\(state.isEmpty ? "" : " (\(state))"); run \(code: command)"
    }

    public var description: String { text.plain }
}

/// A number over a study's seeds: their values, mean and 95% Student-t interval (none for one seed).
public struct Estimate: Sendable, Equatable {
    /// One per seed with a result, in seed order.
    public let values: [Double]
    public var mean: Double { Summary(values).mean }
    /// Student's t over the seeds, n - 1 degrees of freedom; nil with fewer than two.
    public var interval: StudentInterval? { StudentInterval.confidence(values) }

    public init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        self.values = values
    }

    /// Whether it is at least `threshold`: by the 95% interval over seeds when there is one (nil when
    /// the interval holds the threshold), else by the value.
    public func atLeast(_ threshold: Double) -> Bool? {
        guard let interval else { return mean >= threshold }
        return interval.lower >= threshold ? true : interval.upper < threshold ? false : nil
    }
}

/// What the store holds for the studies a report shows: every replicate (seed) of each.
public struct StoredResults: Sendable {
    /// Study -> its replicates that have a fresh result, in seed order.
    public let replicates: [String: [StudyResult]]
    /// In the order the studies were asked for.
    public let missing: [MissingResult]

    public init(replicates: [String: [StudyResult]], missing: [MissingResult]) {
        self.replicates = replicates.filter { !$0.value.isEmpty }
        self.missing = missing
    }

    /// A study's first replicate (its own seed): what one-run views (curves, provenance) show.
    public subscript(study: String) -> StudyResult? { replicates[study]?.first }

    /// Each study's first replicate.
    public var results: [String: StudyResult] { replicates.compactMapValues(\.first) }

    /// The mean over the study's seeds.
    public func value(_ study: String, _ metric: String, condition: String = MetricName.image) -> Double? {
        estimate(study, metric, condition: condition)?.mean
    }

    /// The study's value per seed with its mean and interval; nil when no seed has it.
    public func estimate(_ study: String, _ metric: String, condition: String = MetricName.image) -> Estimate? {
        Estimate((replicates[study] ?? []).compactMap { $0.value(metric, condition: condition) })
    }

    /// Reads the results of the named studies (every replicate of each) from the workspace's store,
    /// opened read-only: an empty or absent workspace leaves every study missing.
    public static func read(workspace: URL, catalog: StudyCatalog, studies names: [String]) throws -> StoredResults {
        let store = try ResultsStore.existing(workspace: workspace)
        var replicates: [String: [StudyResult]] = [:]
        var missing: [MissingResult] = []
        for name in names {
            let base = try catalog.study(named: name).base
            for study in try catalog.replicates(of: base) {
                let state = try StudyState.of(study, workspace: Workspace(workspace), store: store)
                if let store, case .fresh(let run) = state, let id = run.id {
                    var result = StudyResult(study: study, run: run, metrics: try store.metrics(runId: id), curve: try store.curve(runId: id))
                    let outputs = RunFolder(url: Workspace(workspace).runFolder(study: study.name, hash: study.hash)).outputs
                    result.benchmarkReplies = ReplyCount.read(Workspace.benchmarkFolder(outputs: outputs, condition: MetricName.image))
                    result.items = TestItems.read(TestItems.file(outputs: outputs, condition: MetricName.image))
                    replicates[base, default: []].append(result)
                    continue
                }
                let reason: String
                switch state {
                case .fresh: reason = "its run ended but is not in the store yet; `repro status` imports it"
                case .running(let run): reason = "a run is under way, process \(run.pid)"
                case .interrupted: reason = "its run was interrupted; it resumes from its last saved state"
                case .failed(let run): reason = "its last run failed: \(run.error ?? "no error recorded")"
                case .stale: reason = "the stored runs are for an earlier configuration"
                case .missing: reason = ""
                }
                // `repro run` takes a study by any unique prefix: the experiment's number when it is one.
                let short = String(base.prefix { $0 != "-" })
                let name = Set(catalog.studies.map(\.base).filter { $0.hasPrefix(short) }).count == 1 ? short : base
                missing.append(MissingResult(study: study.name, state: reason,
                                             command: "repro run \(name)" + (catalog.profile.map { " --profile \($0)" } ?? "")))
            }
        }
        return StoredResults(replicates: replicates, missing: missing)
    }
}
