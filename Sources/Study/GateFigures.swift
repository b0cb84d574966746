import Data

/// The gate figures each pretraining stage stores with its run, read back from the store: which
/// names a study's `[gates]` may set minimums for, and which stored figures fall below them.
public enum GateFigures {
    /// The vision stage's heads, one figure each: per-cell attributes, where each of two objects
    /// lies from the other, the class token's background and text, and per-patch cell, shape, fill.
    public static let visionHeads = ["shape", "color", "size", "fill", "column_relation", "row_relation", "background",
                                     "text_kind", "text", "patch_cell", "patch_shape", "patch_fill"]

    /// The gate figures a study of this kind stores, by name without the stage (what `[gates]` may name).
    public static func names(_ kind: StudyKind) -> Set<String> {
        let skills = Skill.allCases.map(\.rawValue) + ["overall"]
        switch kind {
        case .vision: return Set(visionHeads + ["occupancy"])
        case .language: return Set(skills + ["open", "yes_no"])
        case .align: return Set(skills + Skill.allCases.map { "lm_" + $0.rawValue } + ["objects", "text_code", "localisation", "answer_kind", "lm_answers"])
        case .instruct:
            return Set(BenchmarkSubtask.allCases.filter(\.isPerception).map { "\($0.rawValue)_margin" }
                       + ["perception_ratio", "yes_no_share", "test_loss_under_uniform", "long_form_rougeL_margin"])
        case .clip: return ["image_to_text_recall1", "text_to_image_recall1"]
        case .finetune: return []
        }
    }

    /// A study's gate figures by name (without the stage), from its stored metrics. The base model's
    /// are its margins over the blind control per perception subtask (points of 200) and the ratio
    /// of the perception totals, derived from the MME-style scores it stores; the share of its MME
    /// replies that are a yes or a no; how far its test loss on the fine-tuning split lies below a
    /// uniform guess's; and its long-form answers' ROUGE-L over the blind control's.
    public static func figures(_ kind: StudyKind, metrics: [MetricRecord]) -> [String: Double] {
        let seen = metrics.values(MetricName.image)
        guard kind == .instruct else {
            let prefix = MetricName.gate("\(kind.rawValue).")
            return Dictionary(uniqueKeysWithValues: seen.filter { $0.key.hasPrefix(prefix) }.map { (String($0.key.dropFirst(prefix.count)), $0.value) })
        }
        let blind = metrics.values(MetricName.blind)
        var figures: [String: Double] = [:]
        for subtask in BenchmarkSubtask.allCases where subtask.isPerception {
            let name = MetricName.mme(subtask.rawValue)
            if let image = seen[name], let control = blind[name] { figures["\(subtask.rawValue)_margin"] = image - control }
        }
        if let image = seen[MetricName.mmePerception], let control = blind[MetricName.mmePerception] {
            // A blind control that scores nothing is beaten by any score above nothing.
            figures["perception_ratio"] = control > 0 ? image / control : image > 0 ? .infinity : 0
        }
        figures["yes_no_share"] = seen[MetricName.mmeYesNoShare]
        if let uniform = seen[MetricName.uniformLoss], let loss = seen[MetricName.testLoss] { figures["test_loss_under_uniform"] = uniform - loss }
        if let image = seen[MetricName.longFormRougeL], let control = blind[MetricName.longFormRougeL] {
            figures["long_form_rougeL_margin"] = image - control
        }
        return figures
    }

    /// One line per gate figure below the study's minimum (`[gates]`), from its stored metrics,
    /// naming the file that set the minimum and what to do.
    public static func shortfalls(_ study: ResolvedStudy, metrics: [MetricRecord]) -> [String] {
        let figures = figures(study.spec.kind, metrics: metrics)
        return study.spec.gates.keys.sorted().compactMap { name in
            let minimum = study.spec.gates[name]!
            let at = "\(study.gateFiles[name] ?? study.file): gates.\(name): \(study.name)'s \(study.spec.kind.rawValue).\(name)"
            guard let value = figures[name] else {
                return "\(at) was not measured by its stored run (older than the gate, or its settings skip it); `repro run \(study.name) --force` measures it"
            }
            // Written so that a NaN figure fails too.
            guard !(value >= minimum) else { return nil }
            return "\(at) is \(String(format: "%.4g", value)), below the minimum \(String(format: "%.4g", minimum)); improve the stage or lower the minimum"
        }
    }
}
