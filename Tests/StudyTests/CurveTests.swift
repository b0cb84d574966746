import Foundation
@testable import Pipeline
@testable import Study
import Testing

/// The held-out curve: its points fall where `train.eval_every` and the checkpoints say, each with
/// the held-out loss and the training slice's, and measuring them changes nothing that trains.
@Suite(.serialized) struct CurveTests {
    /// The tiny language study over 6 steps, a checkpoint every 3, a curve point every `evalEvery`.
    func study(evalEvery: Int) -> String {
        tinyLanguageStudy.replacingOccurrences(of: "max_steps = 9", with: "max_steps = 6")
            .replacingOccurrences(of: "checkpoint_every = 4", with: "checkpoint_every = 3\neval_every = \(evalEvery)")
    }

    /// The run's curve, checkpoints and final weights.
    func train(evalEvery: Int) throws -> (curve: [CurvePoint], checkpoints: [CheckpointRecord], weights: Data) {
        let folder = try StudyFolder(["lm.toml": study(evalEvery: evalEvery)])
        let workspace = RunnerTests().workspace()
        defer { try? FileManager.default.removeItem(at: workspace); try? FileManager.default.removeItem(at: folder.url) }
        let runner = try RunnerTests().runner(folder, workspace)
        try runner.run([])
        let run = try #require(try runner.store!.latestRun(study: "lm"))
        #expect(run.status == .finished)
        let weights = try Data(contentsOf: runner.workspace.runFolder(study: "lm", hash: run.hash).appendingPathComponent("model/model.safetensors"))
        return (try runner.store!.curve(runId: run.id!), try runner.store!.checkpoints(runId: run.id!), weights)
    }

    @Test func curvePointsFallEveryEvalEveryStepsAndAtCheckpointsWithoutChangingWhatTrains() throws {
        let dense = try train(evalEvery: 2), sparse = try train(evalEvery: 100)
        #expect(dense.curve.map(\.step) == Array(1...6))
        // Every 2 steps, and at the checkpoints (3, 6): the held-out loss and the training slice's together.
        #expect(dense.curve.filter { $0.evalLoss != nil }.map(\.step) == [2, 3, 4, 6])
        #expect(dense.curve.filter { $0.trainEvalLoss != nil }.map(\.step) == [2, 3, 4, 6])
        #expect(sparse.curve.filter { $0.evalLoss != nil }.map(\.step) == [3, 6], "an interval longer than the run leaves the checkpoints")
        #expect(sparse.curve.filter { $0.trainEvalLoss != nil }.map(\.step) == [3, 6])
        #expect(dense.checkpoints.map(\.step) == [3, 6] && sparse.checkpoints.map(\.step) == [3, 6])
        for point in dense.curve where point.evalLoss != nil {
            #expect(point.evalLoss!.isFinite && point.trainEvalLoss!.isFinite && point.evalLoss! > 0 && point.trainEvalLoss! > 0)
        }
        // The 4 held-out rows the checkpoints read are the curve's rows too: their losses agree.
        for checkpoint in dense.checkpoints {
            #expect(dense.curve.first { $0.step == checkpoint.step }?.evalLoss == checkpoint.evalLoss)
        }

        // What trains is the same bit for bit: training losses, checkpoints' losses and their choice, the weights.
        #expect(dense.curve.map(\.trainLoss) == sparse.curve.map(\.trainLoss))
        #expect(dense.checkpoints.map(\.evalLoss) == sparse.checkpoints.map(\.evalLoss))
        #expect(dense.checkpoints.map(\.sha256) == sparse.checkpoints.map(\.sha256))
        #expect(dense.checkpoints.map(\.best) == sparse.checkpoints.map(\.best))
        #expect(dense.weights == sparse.weights)
        // And the points both runs measured are the same numbers.
        for step in [3, 6] {
            let a = dense.curve.first { $0.step == step }!, b = sparse.curve.first { $0.step == step }!
            #expect(a.evalLoss == b.evalLoss && a.trainEvalLoss == b.trainEvalLoss)
        }
    }

    /// 0 (the default) asks for about 20 points a run; checkpoints and the last step add theirs.
    @Test func theDefaultIntervalGivesAboutTwentyPoints() {
        var spec = TrainSpec()
        #expect(spec.curveInterval(totalSteps: 94) == 5)
        #expect(spec.curveInterval(totalSteps: 188) == 10)
        #expect(spec.curveInterval(totalSteps: 7) == 1)
        spec.evalEvery = 3
        #expect(spec.curveInterval(totalSteps: 94) == 3)
    }

    /// The study-file reference states the curve's row count the trainer uses.
    @Test func theReferenceStatesTheCurvesRows() throws {
        let meaning = try #require(StudyKeys.meanings.first { $0.key == "train.eval_every" }?.meaning)
        #expect(meaning.contains("first \(Trainer.curveRows) held-out rows"))
    }
}
