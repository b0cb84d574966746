import Foundation
@testable import Pipeline
@testable import Study
import Testing

/// `[gates]` minimums: read from study files, checked against the stage's figures, left out of the
/// hash, and turned into warnings from stored metrics.
@Suite struct GateTests {
    func folder(vision: String, instruct: String = "") throws -> StudyFolder {
        try StudyFolder([
            "defaults.toml": defaults,
            "vision.toml": "extends = \"defaults.toml\"\nkind = \"vision\"\n" + vision,
            "base.toml": "extends = \"defaults.toml\"\nkind = \"instruct\"\n" + instruct,
        ])
    }

    @Test func minimumsAreReadAndLeaveTheHashAlone() throws {
        let strict = try folder(vision: "[gates]\nshape = 0.9\nbackground = 1\n").load()
        let lenient = try folder(vision: "[gates]\nshape = 0.5\n").load()
        let none = try folder(vision: "").load()
        #expect(try strict.study(named: "vision").spec.gates == ["shape": 0.9, "background": 1])
        #expect(try strict.study(named: "vision").hash == lenient.study(named: "vision").hash)
        #expect(try strict.study(named: "vision").hash == none.study(named: "vision").hash)
    }

    @Test func unknownGatesAndNonNumbersAreNamed() throws {
        let problems = try folder(vision: "[gates]\nshapes = 0.9\ncolor = \"high\"\n", instruct: "[gates]\nexistence = 3\n").problems()
        #expect(problems.contains { $0.hasPrefix("studies/vision.toml: gates.color: expected a number") }, "\(problems)")
        let names = try folder(vision: "[gates]\nshapes = 0.9\n", instruct: "[gates]\nexistence = 3\n").problems()
        #expect(names.contains("studies/vision.toml: gates.shapes: is not a gate of vision studies (known: background, color, column_relation, fill, occupancy, patch_cell, patch_fill, patch_shape, row_relation, shape, size, text, text_kind)"),
                "\(names)")
        #expect(names.contains { $0.hasPrefix("studies/base.toml: gates.existence: is not a gate of instruct studies (known: OCR_margin, artwork_margin") },
                "\(names)")
    }

    @Test func namesKeepTheirSpellingAndMergeThroughExtends() throws {
        let folder = try StudyFolder([
            "defaults.toml": defaults + "\n[gates]\nOCR_margin = 1\nexistence_margin = 40\n",
            "base.toml": "extends = \"defaults.toml\"\nkind = \"instruct\"\n[gates]\nexistence_margin = 30\n",
        ])
        let base = try folder.load().study(named: "base")
        #expect(base.spec.gates == ["OCR_margin": 1, "existence_margin": 30])
        #expect(base.gateFiles["OCR_margin"]?.hasSuffix("defaults.toml") == true && base.gateFiles["existence_margin"]?.hasSuffix("base.toml") == true)
        // The warning names the file that set the minimum.
        let warnings = GateFigures.shortfalls(base, metrics: [MetricRecord(runId: 1, condition: "image", name: "mme.OCR", value: 50),
                                                        MetricRecord(runId: 1, condition: "blind", name: "mme.OCR", value: 50)])
        #expect(warnings.contains { $0.contains("defaults.toml: gates.OCR_margin: base's instruct.OCR_margin is 0, below the minimum 1") }, "\(warnings)")
    }

    @Test func figuresBelowTheirMinimumsBecomeWarnings() throws {
        let catalog = try folder(vision: "[gates]\nshape = 0.9\ncolor = 0.9\nfill = 0.5\n",
                                 instruct: "[gates]\nexistence_margin = 40\ncount_margin = 40\nperception_ratio = 1.3\n").load()
        func record(_ condition: String, _ name: String, _ value: Double) -> MetricRecord {
            MetricRecord(runId: 1, condition: condition, name: name, value: value)
        }
        let vision = [record("image", "gate.vision.shape", 0.95), record("image", "gate.vision.color", 0.5)]
        let warnings = GateFigures.shortfalls(try catalog.study(named: "vision"), metrics: vision)
        #expect(warnings.count == 2, "\(warnings)")
        #expect(warnings.contains { $0.contains("vision.toml: gates.color: vision's vision.color is 0.5, below the minimum 0.9") }, "\(warnings)")
        #expect(warnings.contains { $0.contains("vision.toml: gates.fill: vision's vision.fill was not measured") }, "\(warnings)")

        // The base model's margins over its blind control come from its MME-style scores.
        let base = [record("image", "mme.existence", 130), record("blind", "mme.existence", 75),
                    record("image", "mme.count", 100), record("blind", "mme.count", 75),
                    record("image", "mme_perception", 900), record("blind", "mme_perception", 700)]
        let figures = GateFigures.figures(.instruct, metrics: base)
        #expect(figures["existence_margin"] == 55 && figures["count_margin"] == 25)
        #expect(abs(figures["perception_ratio"]! - 900.0 / 700) < 1e-12)
        let baseWarnings = GateFigures.shortfalls(try catalog.study(named: "base"), metrics: base)
        #expect(baseWarnings.count == 2, "\(baseWarnings)")
        #expect(baseWarnings.contains { $0.contains("instruct.count_margin is 25, below the minimum 40") }, "\(baseWarnings)")
        #expect(baseWarnings.contains { $0.contains("instruct.perception_ratio is 1.286") }, "\(baseWarnings)")

        // Its answer format, its test loss against a uniform guess, and its sentences against the blind control's.
        let format = [record("image", "mme_yes_no_share", 0.9), record("image", "uniform_loss", log(756.0)), record("image", "test_loss", 7.0),
                      record("image", "long_form_rougeL", 0.62), record("blind", "long_form_rougeL", 0.41)]
        let formatFigures = GateFigures.figures(.instruct, metrics: format)
        #expect(formatFigures["yes_no_share"] == 0.9 && abs(formatFigures["long_form_rougeL_margin"]! - 0.21) < 1e-12)
        #expect(abs(formatFigures["test_loss_under_uniform"]! - (log(756.0) - 7)) < 1e-12)
        let strict = try folder(vision: "", instruct: "[gates]\nyes_no_share = 0.95\ntest_loss_under_uniform = 0\nlong_form_rougeL_margin = 0.01\n").load()
        let formatWarnings = GateFigures.shortfalls(try strict.study(named: "base"), metrics: format)
        #expect(formatWarnings.count == 2, "\(formatWarnings)")
        #expect(formatWarnings.contains { $0.contains("instruct.yes_no_share is 0.9, below the minimum 0.95") }, "\(formatWarnings)")
        #expect(formatWarnings.contains { $0.contains("instruct.test_loss_under_uniform is -0.37") }, "\(formatWarnings)")

        // A blind control that scores nothing is beaten by any score; a NaN figure is never above a minimum.
        #expect(GateFigures.figures(.instruct, metrics: [record("image", "mme_perception", 10), record("blind", "mme_perception", 0)])["perception_ratio"] == .infinity)
        let nan = GateFigures.shortfalls(try catalog.study(named: "vision"), metrics: [record("image", "gate.vision.shape", .nan),
                                                                                 record("image", "gate.vision.color", 1), record("image", "gate.vision.fill", 1)])
        #expect(nan.count == 1 && nan[0].contains("vision.shape is nan"), "\(nan)")
    }

    @Test func languageAnswersAreCountedPerSkillAndPerKind() {
        var tally = AnswerTally()
        tally.add(skill: "color", expected: "red", reply: "Red.")
        tally.add(skill: "color", expected: "yes", reply: "no")
        tally.add(skill: "existence", expected: "no", reply: "No")
        tally.add(skill: "existence", expected: "yes", reply: "yes")
        tally.add(skill: "location", expected: "top left", reply: "top")
        let figures = Dictionary(uniqueKeysWithValues: tally.measured(stage: "language").map { ($0.name, $0.value) })
        #expect(figures == ["gate.language.color": 0.5, "gate.language.existence": 1, "gate.language.location": 0,
                            "gate.language.open": 0.5, "gate.language.yes_no": 2.0 / 3, "gate.language.overall": 0.6])
        // The two kinds can be given minimums in a language study's [gates].
        #expect(GateFigures.names(.language).isSuperset(of: ["open", "yes_no", "overall", "existence"]))
    }
}
