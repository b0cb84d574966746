import Foundation
@testable import Report
import Study
import Testing

/// The paper's own consistency and the points of method, on its printed numbers and hand-made studies.
@Suite final class CheckTests {
    let made: HandMade
    let paper: PaperSpec
    let reported: ReportedNumbers

    init() throws {
        made = try HandMade()
        paper = try PaperSpec.load(from: HandMade.paperFolder.appendingPathComponent("paper.toml"), studies: Set(made.catalog.studies.map(\.name)))
        reported = try ReportedNumbers.load(from: HandMade.paperFolder.appendingPathComponent("reported.toml"), paper: paper)
    }

    deinit { made.remove() }

    func check(_ reported: ReportedNumbers) throws -> Check {
        let results = try StoredResults.read(workspace: made.workspace, catalog: made.catalog, studies: paper.studies)
        return Check(paper: paper, reported: reported, results: results, catalog: made.catalog)
    }

    @Test func thePaperAgreesWithItselfButRepeatsValues() throws {
        let points = try check(reported).consistency().map(\.plain)
        #expect(points[0] == "Table 2 against Table 1: all 10 losses in Table 2 equal the test loss Table 1 prints for the same experiment.")
        #expect(points[1].hasPrefix("The improvement formula: (standard − enhanced) / standard × 100, as section 4.5 states it, gives all 5 printed percentages"))
        #expect(points[1].contains("Relative to the enhanced loss it would give 75.4, 74.9, 77.1, 72.8, 5.7."))
        #expect(points[2].hasPrefix("Repeated values in Table 1: ROUGE-1 0.2282 in exp 2, exp 4; MME overall 1339.66 in exp 2, exp 5."))
        #expect(points[3].contains("Table 1 ranks its test loss 6 of 10, and it is best only on CLIP score"))
    }

    /// Section 4.4's "best performing" (exp 9): the judgement follows the ranks, whichever way they fall.
    @Test func theBestPerformingSentenceIsJudgedFromTheRanks() throws {
        let study = "exp09-default-default"
        func judgement(_ change: (inout [String: Double]) -> Void) throws -> String {
            var doctored = reported
            change(&doctored.table1[study]!)
            return try #require(check(doctored).consistency().map(\.plain).first { $0.hasPrefix("Section 4.4 says") })
        }
        // As printed: 6th of 10 on test loss and best only on CLIP score.
        let printed = try judgement { _ in }
        #expect(printed.contains("ranks its test loss 6 of 10, and it is best only on CLIP score."))
        #expect(printed.hasSuffix("The sentence most likely means the opposite of what it says."))
        // The lowest test loss: the sentence holds as written.
        let lowest = try judgement { $0[MetricName.testLoss] = 3.0 }
        #expect(lowest.contains("ranks its test loss 1 of 10"))
        #expect(lowest.hasSuffix("Its test loss is the lowest, so the sentence holds as written; it is the reading as overfitting that the numbers do not support."))
        // Third of 10: in the better half, so the numbers do not decide.
        let third = try judgement { $0[MetricName.testLoss] = 3.26 }
        #expect(third.contains("ranks its test loss 3 of 10"))
        #expect(third.hasSuffix("The numbers neither bear the sentence out nor show that it means the opposite."))
        // Still 6th on test loss, but best on the three ROUGE columns and CLIP: 4 of the 6 printed metrics.
        let mostMetrics = try judgement { row in
            for metric in [MetricName.rouge1, MetricName.rouge2, MetricName.rougeL] { row[metric] = 0.99 }
        }
        #expect(mostMetrics.contains("ranks its test loss 6 of 10, and it is best only on ROUGE-1, ROUGE-2, ROUGE-L, CLIP score."))
        #expect(mostMetrics.hasSuffix("The numbers neither bear the sentence out nor show that it means the opposite."))
        #expect(!mostMetrics.contains("opposite of what it says"))
    }

    /// Which group of the retention claim an experiment joins follows the tensors its run recorded,
    /// for this reproduction's numbers and for the paper's (the same configurations).
    @Test func retentionGroupsFollowTheTensorsRunsLoaded() throws {
        try made.run("instruct", metrics: [MetricName.mmeOverall: 1800], loaded: "[]", fresh: #"["vision_model.embeddings.patch_embedding.weight"]"#)
        for study in HandMade.experiments {
            let kept = study.hasPrefix("exp09") || study.hasPrefix("exp10")
            try made.run(study, metrics: [MetricName.mmeOverall: kept ? 1300 : 200],
                         loaded: kept ? #"["qformer.layernorm.weight", "vision_model.post_layernorm.weight"]"# : #"["language_model.lm_head.weight"]"#,
                         fresh: kept ? "[]" : #"["qformer.layernorm.weight", "query_tokens", "vision_model.post_layernorm.weight"]"#)
        }
        // A run that recorded no tensors is in neither group.
        try made.run("ablation-padding", metrics: [MetricName.mmeOverall: 1300], loaded: "[]", fresh: "[]")
        var doctored = reported
        doctored.table1["instruct"] = [MetricName.mmeOverall: 1800]
        let retention = try #require(check(doctored).judged.first { $0.claim.id == "retains-base-performance" })
        #expect(retention.ours.verdict == .fails && retention.paper.verdict == .holds)
        for finding in [retention.ours, retention.paper] {
            #expect(finding.detail.contains("Pretrained weights kept (exp 9, exp 10; every tensor loaded): "))
            #expect(finding.detail.contains("Resized (exp 1, exp 2, exp 3, exp 4, exp 5, exp 6, exp 7, exp 8; fresh weights: qformer, query_tokens, vision_model): "))
        }
        #expect(retention.ours.detail.contains("every tensor loaded): holds — exp 9 72.2%; exp 10 72.2%. "))
        #expect(retention.ours.detail.contains("vision_model): fails — exp 1 11.1%;"))
        #expect(retention.ours.detail.hasSuffix(". Loaded and fresh tensors not recorded (ablation-padding): holds — ablation-padding 72.2%"))
        #expect(!retention.paper.detail.contains("ablation-padding"), "the paper prints no number for it")
    }

    @Test func inconsistenciesAreCounted() throws {
        var doctored = reported
        doctored.table2["small"]!.standard = 5.70
        doctored.table2["large"]!.improvement = 40.0
        let points = try check(doctored).consistency().map(\.plain)
        #expect(points[0] == "Table 2 against Table 1: 1 of 10 differ — Small: Table 2 5.7000, Table 1 5.7099 (exp 2).")
        // Small's own percentage no longer follows from its changed loss either.
        #expect(points[1] == "The improvement formula: (standard − enhanced) / standard × 100 gives only 3 of 5 printed percentages from Table 2's printed losses.")
    }

    @Test func pointsOfMethodFollowTheStudies() throws {
        let points = try check(reported).methodPoints().map(\.plain)
        #expect(points[0].contains("10 of 10 experiments here do the same (`select_best = \"eval_loss\"`"))
        #expect(points[1].hasPrefix("Few checkpoints to choose from: 3 epochs of 1000 samples at 32 a step take about 94 steps, with no checkpoint before the end at one every 100 steps; 6 epochs of 1000 samples at 32 a step take about 188 steps, with one checkpoint before the end"))
        #expect(points[2].hasPrefix("Size variants discard pretrained weights. exp 1, exp 2, exp 3, exp 4, exp 5, exp 6, exp 7, exp 8 change"), "hand-made size variants change the vision encoder's activation")
        // The controls under Table 1 hold the size and LoRA of experiments 9-10 at 3 epochs.
        #expect(points[3].hasPrefix("Training length apart from model size: exp 9 at 6 epochs against Default, default LoRA, 3 epochs (control) at 3, the same size and LoRA: Test loss — against —"))
        #expect(points[3].contains("; exp 10 at 6 epochs against Default, enhanced LoRA, 3 epochs (control) at 3,"))
        #expect(points[4].contains("(seed 0)"))
        #expect(points[5].contains("no experiment counts padding"))
        #expect(points[6].hasPrefix("Trained language-model layers: the paper trains the last 4 of Vicuna-7B's 32 layers (13%) besides the adapters; the experiments here train the last 4 of their 6 (67%)"))
        #expect(points[6].contains("The ablation beside Table 2 trains the last 1 of 6 (17%) for exp 3 against its 4: Test loss — against —"))
        #expect(points[7].contains("(`control-pretraining-rows`), has no result yet."))

        // Without the controls, nothing of that size trains for the usual epochs.
        var withoutControls = paper
        withoutControls.table1Controls = []
        let results = try StoredResults.read(workspace: made.workspace, catalog: made.catalog, studies: withoutControls.studies)
        let confounded = Check(paper: withoutControls, reported: reported, results: results, catalog: made.catalog).methodPoints().map(\.plain)
        #expect(confounded[3].hasPrefix("Extended training is confounded with size: exp 9, exp 10 are the only 6-epoch runs"))
    }
}
