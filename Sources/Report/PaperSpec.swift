import Foundation
import Study
import TOMLKit

/// What the paper contains (`paper/paper.toml`): its tables, its figure and its claims, declared by
/// study name. The numbers it prints are `ReportedNumbers`.
public struct PaperSpec: Sendable {
    public struct Table1Row: Sendable, Equatable {
        public var study: String
        /// The paper's experiment number, as it prints it.
        public var experiment: String
        /// A short name (the figure's legend).
        public var label: String
    }

    /// A row under Table 1's experiments that the paper does not have: a control that separates
    /// what the experiments confound. Claims about the paper's experiments leave it out.
    public struct ControlRow: Sendable, Equatable {
        public var study: String
        public var label: String
    }

    public struct Table2Row: Sendable, Equatable {
        /// Keys the row in reported.toml.
        public var id: String
        public var label: String
        public var standard: String
        public var enhanced: String
    }

    /// An ablation the paper did not run, shown beside Table 2: one configuration against the same
    /// with one thing changed.
    public struct AblationRow: Sendable, Equatable {
        public var label: String
        /// The study as the paper ran it, and the study with the change.
        public var baseline: String
        public var changed: String
    }

    /// A fine-tuning that should lose nothing (not in the paper): the base model fine-tuned by the
    /// experiments' protocol on rows like its own instruction tuning. Keeping `fraction` of the base
    /// model's `metric` shows that the retention measurement can say "retains".
    public struct RetentionControl: Sendable, Equatable {
        public var caption: String
        public var study: String
        public var label: String
        public var metric: String
        public var fraction: Double
    }

    /// How the original differs from the scale model, by component.
    public struct Original: Sendable, Equatable {
        public var model, images, finetune, benchmark, lora, training, hardware: String
    }

    /// The test that decides a claim, with what it needs.
    public enum Rule: Sendable, Equatable {
        /// Enhanced LoRA's test loss is below standard LoRA's in every row of Table 2.
        case enhancedLowersLoss
        /// Table 2's improvement is at least `atLeast` percent in every row but `except` (row ids).
        case improvementSize(atLeast: Double, except: [String])
        /// Each study's held-out curve rises at its end above a lowest point well before it.
        case extendedOverfits(studies: [String])
        /// The study ends training with the lowest training loss of the figure's studies.
        case lowestTrainingLoss(study: String)
        /// No Table 1 row is best on every metric the paper prints.
        case noSingleBest
        /// The study has the best mean rank over the metrics the paper prints.
        case bestBalance(study: String)
        /// Every Table 1 row keeps at least `fraction` of the base model's `metric`.
        case retainsBase(fraction: Double, metric: String)
    }

    public struct Claim: Sendable, Equatable {
        public var id: String
        public var rule: Rule
        /// The sections it is made in.
        public var location: String
        /// The paper's words.
        public var quote: String
        /// A conclusion of the paper: `repro check --strict` fails when it fails.
        public var required: Bool
    }

    public var title: String
    public var authors: String
    public var original: Original
    public var table1Caption: String
    /// The model before fine-tuning, shown with its blind control beside Table 1.
    public var base: String
    public var table1: [Table1Row]
    /// Rows shown under the experiments, marked as not in the paper.
    public var table1Controls: [ControlRow] = []
    public var table2Caption: String
    public var table2: [Table2Row]
    public var figure2Caption: String
    public var figure2: [String]
    public var claims: [Claim]
    public var ablationCaption = ""
    /// Besides `ablationCaption`, the headings of the two loss columns ("as run", "changed").
    public var ablationColumns: (baseline: String, changed: String) = ("", "")
    public var ablation: [AblationRow] = []
    public var retentionControl: RetentionControl?

    /// Every study the paper names, each once, in the order it first appears.
    public var studies: [String] {
        var seen = Set<String>()
        let named = [base] + table1.map(\.study) + table1Controls.map(\.study) + table2.flatMap { [$0.standard, $0.enhanced] } + figure2
            + ablation.flatMap { [$0.baseline, $0.changed] } + (retentionControl.map { [$0.study] } ?? []) + claims.flatMap { claim -> [String] in
            switch claim.rule {
            case .extendedOverfits(let studies): return studies
            case .lowestTrainingLoss(let study), .bestBalance(let study): return [study]
            default: return []
            }
        }
        return named.filter { seen.insert($0).inserted }
    }

    /// The Table 1 row of a study.
    public func row(of study: String) -> Table1Row? { table1.first { $0.study == study } }

    /// Reads paper.toml; every problem is reported, one line each, naming the file and the key.
    /// `studies` are the study names that exist: the file must name no other.
    public static func load(from url: URL, studies: Set<String>) throws -> PaperSpec {
        let (root, opened) = try TOMLReader.open(url)
        var reader = opened
        reader.onlyKeys(root, ["title", "authors", "original", "table1", "table2", "figure2", "claims", "ablation", "retention_control"], at: "")
        func study(_ table: TOMLTable, _ key: String, at path: String) -> String? {
            guard let name = reader.string(table, key, at: path) else { return nil }
            guard studies.contains(name) else {
                reader.problem(reader.join(path, key), "names study '\(name)', which does not exist (studies: \(studies.sorted().joined(separator: ", ")))")
                return nil
            }
            return name
        }

        let title = reader.string(root, "title", at: "") ?? ""
        let authors = reader.string(root, "authors", at: "") ?? ""
        var original = Original(model: "", images: "", finetune: "", benchmark: "", lora: "", training: "", hardware: "")
        if let table = reader.table(root, "original", at: "") {
            let keys: [(String, WritableKeyPath<Original, String>)] = [
                ("model", \.model), ("images", \.images), ("finetune", \.finetune), ("benchmark", \.benchmark),
                ("lora", \.lora), ("training", \.training), ("hardware", \.hardware),
            ]
            reader.onlyKeys(table, keys.map(\.0), at: "original")
            for (key, path) in keys { original[keyPath: path] = reader.string(table, key, at: "original") ?? "" }
        }

        var table1Caption = "", base = "", table1: [Table1Row] = [], table1Controls: [ControlRow] = []
        if let table = reader.table(root, "table1", at: "") {
            reader.onlyKeys(table, ["caption", "base", "rows", "controls"], at: "table1")
            table1Caption = reader.string(table, "caption", at: "table1") ?? ""
            base = study(table, "base", at: "table1") ?? ""
            for (index, row) in (reader.tables(table, "rows", at: "table1") ?? []).enumerated() {
                let path = "table1.rows[\(index)]"
                reader.onlyKeys(row, ["study", "experiment", "label"], at: path)
                if let name = study(row, "study", at: path), let experiment = reader.string(row, "experiment", at: path),
                   let label = reader.string(row, "label", at: path) {
                    table1.append(Table1Row(study: name, experiment: experiment, label: label))
                }
            }
            // Optional: the paper's own table has no controls.
            for (index, row) in (table["controls"] == nil ? [] : reader.tables(table, "controls", at: "table1") ?? []).enumerated() {
                let path = "table1.controls[\(index)]"
                reader.onlyKeys(row, ["study", "label"], at: path)
                if let name = study(row, "study", at: path), let label = reader.string(row, "label", at: path) {
                    if table1.contains(where: { $0.study == name }) {
                        reader.problem("\(path).study", "'\(name)' is one of the paper's experiments (a row of table1), not a control")
                    } else {
                        table1Controls.append(ControlRow(study: name, label: label))
                    }
                }
            }
        }

        var table2Caption = "", table2: [Table2Row] = []
        if let table = reader.table(root, "table2", at: "") {
            reader.onlyKeys(table, ["caption", "rows"], at: "table2")
            table2Caption = reader.string(table, "caption", at: "table2") ?? ""
            for (index, row) in (reader.tables(table, "rows", at: "table2") ?? []).enumerated() {
                let path = "table2.rows[\(index)]"
                reader.onlyKeys(row, ["id", "label", "standard", "enhanced"], at: path)
                if let id = reader.string(row, "id", at: path), let label = reader.string(row, "label", at: path),
                   let standard = study(row, "standard", at: path), let enhanced = study(row, "enhanced", at: path) {
                    table2.append(Table2Row(id: id, label: label, standard: standard, enhanced: enhanced))
                }
            }
        }

        var figure2Caption = "", figure2: [String] = []
        if let table = reader.table(root, "figure2", at: "") {
            reader.onlyKeys(table, ["caption", "studies"], at: "figure2")
            figure2Caption = reader.string(table, "caption", at: "figure2") ?? ""
            for (index, name) in (reader.strings(table, "studies", at: "figure2") ?? []).enumerated() {
                if !studies.contains(name) {
                    reader.problem("figure2.studies[\(index)]", "names study '\(name)', which does not exist")
                } else if !table1.contains(where: { $0.study == name }) {
                    reader.problem("figure2.studies[\(index)]", "names study '\(name)', which is not a row of table1 (its legend comes from there)")
                } else {
                    figure2.append(name)
                }
            }
        }

        var claims: [Claim] = []
        for (index, table) in (reader.tables(root, "claims", at: "") ?? []).enumerated() {
            let path = "claims[\(index)]"
            let common = ["id", "rule", "where", "quote", "required"]
            guard let id = reader.string(table, "id", at: path), let ruleName = reader.string(table, "rule", at: path),
                  let location = reader.string(table, "where", at: path), let quote = reader.string(table, "quote", at: path),
                  let required = reader.bool(table, "required", at: path) else { continue }
            let rule: Rule?
            switch ruleName {
            case "enhanced_lowers_loss":
                reader.onlyKeys(table, common, at: path)
                rule = .enhancedLowersLoss
            case "improvement_size":
                reader.onlyKeys(table, common + ["at_least", "except"], at: path)
                let except = reader.strings(table, "except", at: path)
                for id in except ?? [] where !table2.contains(where: { $0.id == id }) {
                    reader.problem("\(path).except", "'\(id)' is not the id of a table2 row (ids: \(table2.map(\.id).joined(separator: ", ")))")
                }
                rule = reader.number(table, "at_least", at: path).flatMap { atLeast in except.map { .improvementSize(atLeast: atLeast, except: $0) } }
            case "extended_overfits":
                reader.onlyKeys(table, common + ["studies"], at: path)
                let names = reader.strings(table, "studies", at: path)
                for name in names ?? [] where !studies.contains(name) {
                    reader.problem("\(path).studies", "names study '\(name)', which does not exist")
                }
                rule = names.map { .extendedOverfits(studies: $0) }
            case "lowest_training_loss":
                reader.onlyKeys(table, common + ["study"], at: path)
                let name = study(table, "study", at: path)
                if let name, !figure2.contains(name) { reader.problem("\(path).study", "'\(name)' is not a study of figure2, whose curves it is compared with") }
                rule = name.map { .lowestTrainingLoss(study: $0) }
            case "no_single_best":
                reader.onlyKeys(table, common, at: path)
                rule = .noSingleBest
            case "best_balance":
                reader.onlyKeys(table, common + ["study"], at: path)
                let name = study(table, "study", at: path)
                if let name, !table1.contains(where: { $0.study == name }) { reader.problem("\(path).study", "'\(name)' is not a row of table1, whose rows it is ranked among") }
                rule = name.map { .bestBalance(study: $0) }
            case "retains_base":
                reader.onlyKeys(table, common + ["fraction", "metric"], at: path)
                let metric = reader.string(table, "metric", at: path)
                if let metric, !ReportMetric.table1.contains(where: { $0.name == metric }) {
                    reader.problem("\(path).metric", "'\(metric)' is not a Table 1 metric (\(ReportMetric.table1.map(\.name).joined(separator: ", ")))")
                }
                rule = reader.number(table, "fraction", at: path).flatMap { fraction in metric.map { .retainsBase(fraction: fraction, metric: $0) } }
            default:
                reader.problem("\(path).rule", "unknown rule '\(ruleName)' (rules: best_balance, enhanced_lowers_loss, extended_overfits, improvement_size, lowest_training_loss, no_single_best, retains_base)")
                rule = nil
            }
            if let rule { claims.append(Claim(id: id, rule: rule, location: location, quote: quote, required: required)) }
        }
        var spec = PaperSpec(title: title, authors: authors, original: original, table1Caption: table1Caption, base: base, table1: table1,
                             table2Caption: table2Caption, table2: table2, figure2Caption: figure2Caption, figure2: figure2, claims: claims)
        spec.table1Controls = table1Controls
        // Optional: the paper's own content needs no ablation.
        if root["ablation"] != nil, let table = reader.table(root, "ablation", at: "") {
            reader.onlyKeys(table, ["caption", "baseline_column", "changed_column", "rows"], at: "ablation")
            spec.ablationCaption = reader.string(table, "caption", at: "ablation") ?? ""
            spec.ablationColumns = (reader.string(table, "baseline_column", at: "ablation") ?? "",
                                    reader.string(table, "changed_column", at: "ablation") ?? "")
            for (index, row) in (reader.tables(table, "rows", at: "ablation") ?? []).enumerated() {
                let path = "ablation.rows[\(index)]"
                reader.onlyKeys(row, ["label", "baseline", "changed"], at: path)
                if let label = reader.string(row, "label", at: path), let baseline = study(row, "baseline", at: path),
                   let changed = study(row, "changed", at: path) {
                    spec.ablation.append(AblationRow(label: label, baseline: baseline, changed: changed))
                }
            }
        }
        // Optional too: a control of the measurement, not of the paper.
        if root["retention_control"] != nil, let table = reader.table(root, "retention_control", at: "") {
            let path = "retention_control"
            reader.onlyKeys(table, ["caption", "study", "label", "metric", "fraction"], at: path)
            let metric = reader.string(table, "metric", at: path)
            if let metric, !ReportMetric.table1.contains(where: { $0.name == metric }) {
                reader.problem("\(path).metric", "'\(metric)' is not a Table 1 metric (\(ReportMetric.table1.map(\.name).joined(separator: ", ")))")
            }
            let fraction = reader.number(table, "fraction", at: path)
            if let fraction, !(fraction > 0 && fraction <= 1) { reader.problem("\(path).fraction", "\(fraction) is not a share of the base model's score (0 to 1)") }
            if let caption = reader.string(table, "caption", at: path), let name = study(table, "study", at: path),
               let label = reader.string(table, "label", at: path), let metric, let fraction {
                spec.retentionControl = RetentionControl(caption: caption, study: name, label: label, metric: metric, fraction: fraction)
            }
        }
        try reader.check()
        return spec
    }
}

/// The numbers the paper prints (`paper/reported.toml`), copied once from it.
public struct ReportedNumbers: Sendable, Equatable {
    public struct Table2Row: Sendable, Equatable {
        public var standard: Double?
        public var enhanced: Double?
        /// In percent, as printed.
        public var improvement: Double?
    }

    /// Study -> metric name -> value.
    public var table1: [String: [String: Double]]
    /// Table 2 row id -> its numbers.
    public var table2: [String: Table2Row]

    public func value(_ study: String, _ metric: String) -> Double? { table1[study]?[metric] }

    /// Reads reported.toml: rows must be those `paper` declares and metrics those the paper prints;
    /// a number the file leaves out shows as missing.
    public static func load(from url: URL, paper: PaperSpec) throws -> ReportedNumbers {
        let (root, opened) = try TOMLReader.open(url)
        var reader = opened
        reader.onlyKeys(root, ["table1", "table2"], at: "")
        var table1: [String: [String: Double]] = [:]
        if let table = reader.table(root, "table1", at: "") {
            let printed = ReportMetric.printed.map(\.name)
            for study in table.keys.sorted() {
                guard paper.row(of: study) != nil else {
                    reader.problem("table1.\(study)", "is not a row of Table 1 in paper.toml (rows: \(paper.table1.map(\.study).joined(separator: ", ")))")
                    continue
                }
                guard let row = reader.table(table, study, at: "table1") else { continue }
                reader.onlyKeys(row, printed, at: "table1.\(study)")
                var values: [String: Double] = [:]
                for metric in printed where row[metric] != nil {
                    values[metric] = reader.number(row, metric, at: "table1.\(study)")
                }
                table1[study] = values
            }
        }
        var table2: [String: Table2Row] = [:]
        if let table = reader.table(root, "table2", at: "") {
            let keys = ["standard", "enhanced", "improvement"]
            for id in table.keys.sorted() {
                guard paper.table2.contains(where: { $0.id == id }) else {
                    reader.problem("table2.\(id)", "is not a row id of Table 2 in paper.toml (ids: \(paper.table2.map(\.id).joined(separator: ", ")))")
                    continue
                }
                guard let row = reader.table(table, id, at: "table2") else { continue }
                reader.onlyKeys(row, keys, at: "table2.\(id)")
                func number(_ key: String) -> Double? { row[key] == nil ? nil : reader.number(row, key, at: "table2.\(id)") }
                table2[id] = Table2Row(standard: number("standard"), enhanced: number("enhanced"), improvement: number("improvement"))
            }
        }
        try reader.check()
        return ReportedNumbers(table1: table1, table2: table2)
    }
}
