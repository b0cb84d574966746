import Foundation
@testable import Report
import Study
import Testing

@Suite struct PaperFileTests {
    /// The repository's own studies: paper.toml must name only studies that exist.
    static func repositoryStudies() throws -> Set<String> {
        let folder = HandMade.paperFolder.deletingLastPathComponent().appendingPathComponent("studies")
        return Set(try StudyCatalog.load(directory: folder).studies.map(\.name))
    }

    @Test func readsThePapersFiles() throws {
        let paper = try PaperSpec.load(from: HandMade.paperFolder.appendingPathComponent("paper.toml"), studies: try Self.repositoryStudies())
        #expect(paper.base == "instruct")
        #expect(paper.table1.count == 10)
        #expect(paper.table1[2] == PaperSpec.Table1Row(study: "exp03-medium-enhanced", experiment: "3", label: "Medium, enhanced LoRA"))
        #expect(paper.table2.map(\.id) == ["small", "medium", "large", "extra-large", "default-extended"])
        #expect(paper.table2[1].standard == "exp01-medium-default" && paper.table2[1].enhanced == "exp03-medium-enhanced")
        #expect(paper.figure2 == paper.table1.map(\.study))
        #expect(paper.claims.filter(\.required).map(\.id) == ["enhanced-lowers-loss", "retains-base-performance"])
        #expect(paper.claims.map(\.rule).contains(.bestBalance(study: "exp03-medium-enhanced")))
        #expect(paper.claims.map(\.rule).contains(.retainsBase(fraction: 0.7, metric: "mme_overall")))
        #expect(paper.studies.count == 16, "ten experiments, the base model, two ablations, two controls under Table 1 and the positive control")
        #expect(paper.ablation == [
            PaperSpec.AblationRow(label: "Padding counted in the loss", baseline: "exp03-medium-enhanced", changed: "ablation-padding"),
            PaperSpec.AblationRow(label: "Only the last language-model layer trained", baseline: "exp03-medium-enhanced", changed: "ablation-last-layer"),
        ])
        #expect(paper.table1Controls.map(\.study) == ["control-default-default", "control-default-enhanced"])
        #expect(paper.retentionControl?.study == "control-pretraining-rows" && paper.retentionControl?.fraction == 0.9
                && paper.retentionControl?.metric == MetricName.mmeOverall)
        // The claims about the paper's experiments see its ten rows, not the controls.
        #expect(!paper.table1.contains { $0.study.hasPrefix("control-") })

        let reported = try ReportedNumbers.load(from: HandMade.paperFolder.appendingPathComponent("reported.toml"), paper: paper)
        #expect(reported.table1.count == 10)
        #expect(reported.table1.values.allSatisfy { $0.count == 6 }, "six printed numbers per row")
        #expect(reported.value("exp03-medium-enhanced", MetricName.testLoss) == 3.2433)
        #expect(reported.value("exp10-default-enhanced", MetricName.mmeOverall) == 1262.80)
        #expect(reported.table2["medium"] == ReportedNumbers.Table2Row(standard: 5.674, enhanced: 3.2433, improvement: 42.8))
    }

    /// The paper's formula, applied to its printed losses, gives its printed percentages.
    @Test func improvementFormulaGivesThePrintedPercentages() throws {
        let paper = try PaperSpec.load(from: HandMade.paperFolder.appendingPathComponent("paper.toml"), studies: try Self.repositoryStudies())
        let reported = try ReportedNumbers.load(from: HandMade.paperFolder.appendingPathComponent("reported.toml"), paper: paper)
        for row in paper.table2 {
            let printed = reported.table2[row.id]!
            let improvement = PaperTables.improvement(standard: printed.standard!, enhanced: printed.enhanced!)
            #expect(NumberFormat.decimals(1).string(improvement) == NumberFormat.decimals(1).string(printed.improvement!), "\(row.id)")
        }
    }

    /// Writes `text` as a file in a fresh folder and returns the error loading it gives, with the
    /// folder's path cut off.
    func problems(paper text: String, reported: String? = nil, studies: Set<String> = ["base", "a", "b"]) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("repro-paper-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try text.write(to: folder.appendingPathComponent("paper.toml"), atomically: true, encoding: .utf8)
        if let reported { try reported.write(to: folder.appendingPathComponent("reported.toml"), atomically: true, encoding: .utf8) }
        do {
            let paper = try PaperSpec.load(from: folder.appendingPathComponent("paper.toml"), studies: studies)
            _ = try ReportedNumbers.load(from: folder.appendingPathComponent("reported.toml"), paper: paper)
            return "loaded"
        } catch {
            return "\(error)".replacingOccurrences(of: folder.path + "/", with: "")
        }
    }

    static let valid = """
        title = "T"
        authors = "A"
        [original]
        model = "m"
        images = "i"
        finetune = "f"
        benchmark = "b"
        lora = "l"
        training = "t"
        hardware = "h"
        [table1]
        caption = "c"
        base = "base"
        rows = [{ study = "a", experiment = "1", label = "A" }, { study = "b", experiment = "2", label = "B" }]
        [table2]
        caption = "c"
        rows = [{ id = "only", label = "Only", standard = "a", enhanced = "b" }]
        [figure2]
        caption = "c"
        studies = ["a", "b"]
        [[claims]]
        id = "x"
        rule = "improvement_size"
        where = "4.5"
        quote = "q"
        required = false
        at_least = 42
        except = []

        """

    @Test func aValidPairLoads() throws {
        #expect(try problems(paper: Self.valid, reported: "[table1.a]\ntest_loss = 5.6\n[table2.only]\nimprovement = 5\n") == "loaded")
    }

    @Test func paperProblemsNameFileAndKey() throws {
        let broken = Self.valid
            .replacingOccurrences(of: #"title = "T""#, with: "title = 3\ncolour = \"red\"")
            .replacingOccurrences(of: #"{ study = "b", experiment = "2", label = "B" }"#, with: #"{ study = "c", experiment = "2", label = "B" }"#)
            .replacingOccurrences(of: #"studies = ["a", "b"]"#, with: #"studies = ["a", "base"]"#)
            .replacingOccurrences(of: #"except = []"#, with: #"except = ["big"]"#)
            + "[[claims]]\nid = \"y\"\nrule = \"looks_good\"\nwhere = \"1\"\nquote = \"q\"\nrequired = \"yes\"\n"
            + "[[claims]]\nid = \"z\"\nrule = \"no_single_best\"\nwhere = \"1\"\nquote = \"q\"\nrequired = true\nstudy = \"a\"\n"
            + "[[claims]]\nid = \"w\"\nrule = \"best_balance\"\nwhere = \"1\"\nquote = \"q\"\nrequired = true\nstudy = \"base\"\n"
        #expect(try problems(paper: broken) == """
            paper.toml: colour: unknown key (known here: ablation, authors, claims, figure2, original, retention_control, table1, table2, title)
            paper.toml: title: expected a string, got integer
            paper.toml: table1.rows[1].study: names study 'c', which does not exist (studies: a, b, base)
            paper.toml: figure2.studies[1]: names study 'base', which is not a row of table1 (its legend comes from there)
            paper.toml: claims[0].except: 'big' is not the id of a table2 row (ids: only)
            paper.toml: claims[1].required: expected true or false, got string
            paper.toml: claims[2].study: unknown key (known here: id, quote, required, rule, where)
            paper.toml: claims[3].study: 'base' is not a row of table1, whose rows it is ranked among
            """)
        let unknownRule = Self.valid.replacingOccurrences(of: #"rule = "improvement_size""#, with: #"rule = "looks_good""#)
        #expect(try problems(paper: unknownRule).hasPrefix("paper.toml: claims[0].rule: unknown rule 'looks_good' (rules: best_balance,"))
    }

    /// Controls under Table 1 and the positive control for retention: optional, and read like the rest.
    @Test func controlsAndTheRetentionControlNameFileAndKey() throws {
        let studies: Set<String> = ["base", "a", "b", "c", "d"]
        let reported = "[table1.a]\ntest_loss = 5.6\n[table2.only]\nimprovement = 5\n"
        let controls = Self.valid.replacingOccurrences(of: "[table2]", with: "controls = [{ study = \"c\", label = \"C\" }]\n[table2]")
            + "[retention_control]\ncaption = \"r\"\nstudy = \"d\"\nlabel = \"D\"\nmetric = \"mme_overall\"\nfraction = 0.9\n"
        #expect(try problems(paper: controls, reported: reported, studies: studies) == "loaded")
        let broken = Self.valid.replacingOccurrences(of: "[table2]", with: "controls = [{ study = \"a\", label = \"A\" }, { study = \"e\", label = \"E\", experiment = \"11\" }]\n[table2]")
            + "[retention_control]\ncaption = \"r\"\nstudy = \"d\"\nlabel = \"D\"\nmetric = \"mme\"\nfraction = 90\n"
        #expect(try problems(paper: broken, reported: reported, studies: studies) == """
            paper.toml: table1.controls[0].study: 'a' is one of the paper's experiments (a row of table1), not a control
            paper.toml: table1.controls[1].experiment: unknown key (known here: label, study)
            paper.toml: table1.controls[1].study: names study 'e', which does not exist (studies: a, b, base, c, d)
            paper.toml: retention_control.metric: 'mme' is not a Table 1 metric (test_loss, rouge1, rouge2, rougeL, bleu, clip_score, mme_overall, trainable_parameters, parameters)
            paper.toml: retention_control.fraction: 90.0 is not a share of the base model's score (0 to 1)
            """)
    }

    @Test func unreadableFilesSayWhy() throws {
        #expect(try problems(paper: "title = \n").hasPrefix("paper.toml: line 1: "))
        #expect(try problems(paper: Self.valid) == "reported.toml: cannot be read")
    }

    @Test func reportedProblemsNameFileAndKey() throws {
        let reported = """
            [table1.a]
            test_loss = "5.6"
            bleu = 0.1
            [table1.c]
            test_loss = 1.0
            [table2.other]
            standard = 1.0
            [table2.only]
            gain = 3

            """
        #expect(try problems(paper: Self.valid, reported: reported) == """
            reported.toml: table1.a.bleu: unknown key (known here: clip_score, mme_overall, rouge1, rouge2, rougeL, test_loss)
            reported.toml: table1.a.test_loss: expected a number, got string
            reported.toml: table1.c: is not a row of Table 1 in paper.toml (rows: a, b)
            reported.toml: table2.only.gain: unknown key (known here: enhanced, improvement, standard)
            reported.toml: table2.other: is not a row id of Table 2 in paper.toml (ids: only)
            """)
    }
}
