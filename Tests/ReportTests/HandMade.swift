import Foundation
@testable import Report
@testable import Study

/// Hand-made test data, not results: a studies folder with the paper's study names (each a tiny
/// valid study), and runs written into a store in a temporary folder through `ResultsStore`'s API.
struct HandMade {
    let folder: URL
    let catalog: StudyCatalog
    var workspace: URL { folder.appendingPathComponent("workspace") }

    /// The repository's paper folder (paper.toml, reported.toml).
    static let paperFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("paper")

    static let experiments = [
        "exp01-medium-default", "exp02-small-default", "exp03-medium-enhanced", "exp04-small-enhanced",
        "exp05-large-default", "exp06-large-enhanced", "exp07-extra-large-default", "exp08-extra-large-enhanced",
        "exp09-default-default", "exp10-default-enhanced",
    ]

    /// A fresh temporary folder with the studies; `remove()` deletes it.
    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("repro-report-\(UUID().uuidString)")
        let studies = folder.appendingPathComponent("studies")
        try FileManager.default.createDirectory(at: studies, withIntermediateDirectories: true)
        func write(_ name: String, _ text: String) throws {
            try text.write(to: studies.appendingPathComponent("\(name).toml"), atomically: true, encoding: .utf8)
        }
        try write("defaults", "abstract = true\n[eval]\nclip_study = \"\"\n")
        try write("instruct", "extends = \"defaults.toml\"\nkind = \"instruct\"\ndescription = \"base\"\n")
        for name in Self.experiments {
            let enhanced = name.hasSuffix("enhanced"), size = name.split(separator: "-").dropFirst().dropLast().joined(separator: "-")
            var text = """
                extends = "defaults.toml"
                init = "instruct"
                size = "\(size)"
                description = "\(name)"
                [lora]
                r = \(enhanced ? 64 : 32)
                alpha = \(enhanced ? 128 : 64)
                [train]
                epochs = \(name.hasPrefix("exp09") || name.hasPrefix("exp10") ? 6 : 3)

                """
            // Resized components, as the paper's size variants.
            if size != "default" { text += "[model.vision_config]\nhidden_act = \"relu\"\n" }
            try write(name, text)
        }
        try write("ablation-padding", "extends = \"exp03-medium-enhanced.toml\"\ndescription = \"padding counted\"\n[train]\ncount_padding_in_loss = true\n")
        try write("ablation-last-layer", "extends = \"exp03-medium-enhanced.toml\"\ndescription = \"last layer\"\n[train]\ntrainable = \"paper:1\"\n")
        try write("control-default-default", "extends = \"exp09-default-default.toml\"\ndescription = \"3 epochs\"\n[train]\nepochs = 3\n")
        try write("control-default-enhanced", "extends = \"exp10-default-enhanced.toml\"\ndescription = \"3 epochs\"\n[train]\nepochs = 3\n")
        try write("control-pretraining-rows", "extends = \"exp09-default-default.toml\"\ndescription = \"positive control\"\n[train]\nepochs = 3\nrows = \"pretraining\"\n")
        catalog = try StudyCatalog.load(directory: studies)
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }

    func store() throws -> ResultsStore { try ResultsStore(workspace: workspace) }

    /// Records a run of `study`: its curve (held-out loss where given), its metrics and the tensors
    /// it loaded and started fresh, then finishes it and imports it, unless `status` says otherwise
    /// (a failed run is imported as failed; a running one stays in its run folder, as a trainer
    /// leaves it). `hash` defaults to the study's current one.
    @discardableResult
    func run(_ study: String, status: RunStatus = .finished, hash: String? = nil, metrics: [String: Double] = [:],
             blind: [String: Double] = [:], curve: [(step: Int, train: Double, heldOut: Double?)] = [],
             loaded: String = #"["a", "b"]"#, fresh: String = #"["c"]"#) throws -> RunRecord {
        let resolved = try catalog.study(named: study)
        var file = RunFile(run: RunRecord(
            id: nil, study: study, hash: hash ?? resolved.hash, profile: "", canonical: resolved.canonical, status: status,
            startedAt: Date(timeIntervalSince1970: 1_750_000_000), finishedAt: nil, seconds: status == .finished ? 1 : nil,
            commit: "0123456789abcdef", engine: "engine-1", blas: "SkylakeX", machine: "test machine, 2 cores", pid: 1,
            error: status == .failed ? "out of memory" : nil, loadedTensors: loaded, freshTensors: fresh, key: UUID().uuidString))
        file.curve = curve.map { CurvePoint(runId: 0, step: $0.step, epoch: Double($0.step) / 32, trainLoss: $0.train, learningRate: 1e-4, evalLoss: $0.heldOut) }
        if status == .finished {
            file.metrics = metrics.map { MetricRecord(runId: 0, condition: MetricName.image, name: $0.key, value: $0.value) }
                + blind.map { MetricRecord(runId: 0, condition: MetricName.blind, name: $0.key, value: $0.value) }
        }
        guard status == .running else { return try store().importRun(file) }
        let folder = RunFolder(url: Workspace(workspace).runFolder(study: study, hash: file.run.hash))
        try folder.create()
        try file.write(to: folder)
        return file.run
    }

    /// A falling training curve with a little deterministic wobble, and held-out loss every
    /// `every` steps that falls and then rises after `turn` (overfitting) when `turn` is given.
    static func curve(steps: Int, start: Double, end: Double, every: Int = 25, turn: Int? = nil, seed: Double = 0)
        -> [(step: Int, train: Double, heldOut: Double?)] {
        (1...steps).map { step in
            let progress = Double(step) / Double(steps)
            let train = end + (start - end) * exp(-4 * progress) + 0.08 * sin(Double(step) * 1.7 + seed)
            var heldOut: Double?
            if step % every == 0 || step == steps {
                let base = end + 0.3 + (start - end) * exp(-3 * progress)
                heldOut = base + (turn.map { step > $0 ? Double(step - $0) * 0.01 : 0 } ?? 0)
            }
            return (step, train, heldOut)
        }
    }

    /// Table 1's metrics for an experiment, loosely like the paper's.
    static func metrics(testLoss: Double, rouge: Double = 0.22, clip: Double = 0.26, mme: Double = 1300) -> [String: Double] {
        [MetricName.testLoss: testLoss, MetricName.rouge1: rouge, MetricName.rouge2: rouge / 2, MetricName.rougeL: rouge * 0.85,
         MetricName.bleu: rouge / 4, MetricName.clipScore: clip, MetricName.mmeOverall: mme,
         MetricName.trainableParameters: 1_234_567, MetricName.parameters: 9_876_543]
    }
}
