import Engine
import Foundation
import Study
import Model

/// The rows a loss is measured on without training: the held-out split, or the training split read
/// as evaluation reads it (no dropout, no noise).
enum EvaluationSplit {
    case heldOut, train
}

/// What the trainer needs from a study: a loss on training examples, a loss measured without
/// training, and the tensors that train.
protocol Objective: AnyObject {
    var trainCount: Int { get }
    var heldOutCount: Int { get }
    /// The tensors the optimizer updates and the checkpoints hold, each with a unique name.
    var trainable: [Tensor] { get }
    /// The loss of one optimizer step, recorded for backward: the mean over the micro-batches
    /// (lists of training-set indices) of each micro-batch's mean loss, which is what gradient
    /// accumulation computes. An objective may run the micro-batches as one batch.
    func trainLoss(_ microBatches: [[Int]], _ context: ForwardContext) throws -> Tensor
    /// The summed loss over examples `indices` of `split` in evaluation mode (no dropout, nothing
    /// random), and what it is a sum over (tokens, pairs).
    func evaluationLoss(_ indices: [Int], of split: EvaluationSplit) throws -> (total: Double, count: Int)
}

/// Progress of a run, for a progress bar or log lines.
public struct TrainingProgress: Codable, Sendable {
    public let study: String
    public let step: Int
    public let totalSteps: Int
    public let trainLoss: Double
    public let samplesPerSecond: Double
    /// Set at checkpoints.
    public let evalLoss: Double?
}

/// The outcome of training: which checkpoint was kept.
struct TrainingOutcome {
    let steps: Int
    /// Steps this process took (fewer than `steps` when it resumed).
    let stepsRun: Int
    let bestStep: Int
    let bestEvalLoss: Double?
}

/// The training loop shared by every study: gradient accumulation, the learning-rate schedule,
/// clipping, checkpoints with their held-out loss, the held-out curve (with the loss of a fixed slice
/// of the training rows beside it), the best checkpoint, and resuming.
///
/// Every random choice depends only on the seed and the step (the order of examples on the epoch,
/// dropout on the step and micro-batch), and the resume state holds the trainable tensors and the
/// optimizer exactly, so a run resumed from its state ends with the same numbers as one never
/// interrupted.
struct Trainer {
    let spec: TrainSpec
    let study: String
    let objective: Objective
    let folder: RunFolder
    /// The run's record in its run folder: curve points, checkpoints, the kept one.
    let recorder: RunRecorder
    let workspace: Workspace
    /// Called after every optimizer step; throwing stops training (the resume state stays on disk).
    let progress: (TrainingProgress) throws -> Void
    /// Steps between writes of the resume state (besides every checkpoint).
    var stateEvery = 20

    func run() throws -> TrainingOutcome {
        let total = spec.totalSteps(trainCount: objective.trainCount)
        precondition(objective.trainCount > 0, "\(study) has no training examples")
        let optimizer = AdamW(parameters: objective.trainable, weightDecay: spec.weightDecay)
        let schedule = LearningRateSchedule(peak: spec.learningRate, warmupSteps: Int(Float(total) * spec.warmupRatio),
                                            totalSteps: total, decay: spec.schedule)
        let rng = SeededGenerator(seed: spec.seed)
        var step = try resume(optimizer)
        var order = ExampleOrder(count: objective.trainCount, rng: rng.fork("order"))
        let curveEvery = spec.curveInterval(totalSteps: total)
        let start = monotonicSeconds()
        let startStep = step

        while step < total {
            optimizer.zeroGradients()
            let microBatches = (0..<spec.accumulation).map { micro in
                let first = (step * spec.accumulation + micro) * spec.microBatch
                return (first..<(first + spec.microBatch)).map { order.example(at: $0) }
            }
            let loss = try objective.trainLoss(microBatches, ForwardContext(training: true, rng: rng.fork("dropout").fork(step)))
            guard loss.scalar.isFinite else {
                let saved = FileManager.default.fileExists(atPath: folder.state.path)
                    ? "the last good state is \(workspace.relative(folder.state))" : "no state was saved before it, so a rerun starts over"
                throw StudyError(file: study, key: nil, problem: "the training loss became \(loss.scalar) at step \(step + 1); \(saved) (try a lower train.learning_rate)")
            }
            loss.backward()
            clipGradientNorm(optimizer.parameters, maxNorm: spec.maxGradNorm)
            let rate = schedule.rate(atStep: step)
            optimizer.step(learningRate: rate)
            step += 1

            let trainLoss = Double(loss.scalar)
            let epoch = Double(step * spec.samplesPerStep) / Double(objective.trainCount)
            // Checkpoints measure the held-out loss that picks the kept one; they and every `curveEvery`
            // steps add a point to the held-out curve. Neither reads a training stream or changes a weight.
            let checkpoint = step % spec.checkpointEvery == 0 || step == total
            var evalLoss: Double?
            if checkpoint {
                evalLoss = try heldOutLoss()
                try saveCheckpoint(step: step, evalLoss: evalLoss)
            }
            var point: (heldOut: Double, train: Double)?
            if checkpoint || step % curveEvery == 0 { point = try curvePoint(checkpointLoss: evalLoss) }
            recorder.append(CurvePoint(runId: 0, step: step, epoch: epoch, trainLoss: trainLoss, learningRate: Double(rate),
                                       evalLoss: point?.heldOut, trainEvalLoss: point?.train))
            if step % stateEvery == 0 || checkpoint { try saveState(optimizer, step: step) }
            let throughput = Double((step - startStep) * spec.samplesPerStep) / max(monotonicSeconds() - start, 1e-9)
            try progress(TrainingProgress(study: study, step: step, totalSteps: total, trainLoss: trainLoss,
                                      samplesPerSecond: throughput, evalLoss: evalLoss))
        }
        let best = try selectBest(total: total)
        return TrainingOutcome(steps: total, stepsRun: step - startStep, bestStep: best.step, bestEvalLoss: best.evalLoss)
    }

    // MARK: Losses measured without training

    /// Rows of each split a point of the held-out curve reads, at most. About 20 points a run over all
    /// 250 held-out rows and as many training rows (3 s each at one thread) would add about 110 s to
    /// an experiment of about 150 s; over 64 rows they add about 30 s. Checkpoints still read
    /// `eval_samples` rows. Changing it changes stored curves, so it takes a new numerics version.
    static let curveRows = 64

    /// Held-out rows a checkpoint reads: `eval_samples`, or all of them.
    var checkpointRows: Int { spec.evalSamples > 0 ? min(spec.evalSamples, objective.heldOutCount) : objective.heldOutCount }

    /// The mean held-out loss (over tokens, or pairs) at a checkpoint, on at most `eval_samples` examples.
    func heldOutLoss() throws -> Double { try meanLoss(of: .heldOut, rows: checkpointRows) }

    /// A point of the held-out curve: the loss of the first `curveRows` held-out rows (fewer when a
    /// checkpoint reads fewer) and of as many of the first training rows, both in evaluation mode;
    /// nil without held-out rows. Where the checkpoint just read the same rows, its loss is reused.
    func curvePoint(checkpointLoss: Double?) throws -> (heldOut: Double, train: Double)? {
        let rows = min(Self.curveRows, checkpointRows)
        guard rows > 0 else { return nil }
        let heldOut: Double
        if let checkpointLoss, rows == checkpointRows {
            heldOut = checkpointLoss
        } else {
            heldOut = try meanLoss(of: .heldOut, rows: rows)
        }
        return (heldOut, try meanLoss(of: .train, rows: min(rows, objective.trainCount)))
    }

    /// The mean loss (over tokens, or pairs) of the first `count` rows of `split`, in batches, without
    /// recording anything for backward.
    func meanLoss(of split: EvaluationSplit, rows count: Int) throws -> Double {
        guard count > 0 else { return .nan }
        var total = 0.0, items = 0
        let batch = max(spec.microBatch, 8)
        try Autodiff.withoutGradients {
            for start in stride(from: 0, to: count, by: batch) {
                let (sum, n) = try objective.evaluationLoss(Array(start..<min(start + batch, count)), of: split)
                total += sum
                items += n
            }
        }
        return total / Double(max(items, 1))
    }

    // MARK: Checkpoints and resume

    /// Saves the trainable tensors at a checkpoint and records it with its held-out loss.
    func saveCheckpoint(step: Int, evalLoss: Double?) throws {
        let url = folder.checkpoint(step: step)
        try SafeTensors.write(Dictionary(uniqueKeysWithValues: objective.trainable.map { ($0.name!, $0) }), to: url)
        recorder.record(CheckpointRecord(runId: 0, step: step, path: workspace.relative(url), sha256: try sha256(of: url),
                                         evalLoss: evalLoss, best: false))
    }

    /// Writes what resuming needs: the run file up to `step` first (so that a state is never ahead
    /// of the curve), then the trainable tensors, the optimizer's moments and its step.
    func saveState(_ optimizer: AdamW, step: Int) throws {
        try recorder.save()
        var tensors = Dictionary(uniqueKeysWithValues: objective.trainable.map { ($0.name!, $0) })
        for (name, tensor) in optimizer.stateTensors() { tensors["optimizer.\(name)"] = tensor }
        try SafeTensors.write(tensors, metadata: ["step": "\(step)"], to: folder.state)
    }

    /// Restores the resume state when there is one; returns the step to continue from.
    func resume(_ optimizer: AdamW) throws -> Int {
        guard FileManager.default.fileExists(atPath: folder.state.path) else {
            recorder.truncateCurve(after: 0)
            return 0
        }
        let file = try SafeTensors.read(folder.state)
        guard let step = file.metadata["step"].flatMap(Int.init) else {
            throw StudyError(file: folder.state.path, key: nil, problem: "has no step in its metadata; delete it to start this run again")
        }
        for tensor in objective.trainable { tensor.copyValues(from: try file.tensor(tensor.name!)) }
        var state: [String: Tensor] = [:]
        for name in file.names where name.hasPrefix("optimizer.") { state[String(name.dropFirst(10))] = try file.tensor(name) }
        try optimizer.loadState(state)
        // Curve points and checkpoints after the state were made by the interrupted process; they are made again.
        recorder.truncateCurve(after: step)
        return step
    }

    /// Loads the kept checkpoint (lowest held-out loss, or the last) into the trainable tensors and
    /// returns its step and held-out loss (the last step and none when there is no checkpoint).
    func selectBest(total: Int) throws -> (step: Int, evalLoss: Double?) {
        let checkpoints = recorder.file.checkpoints.filter { $0.step <= total }.sorted { $0.step < $1.step }
        guard let last = checkpoints.last else { return (total, nil) }
        var best = last
        if spec.selectBest == "eval_loss" {
            best = checkpoints.filter { $0.evalLoss?.isFinite == true }.min { $0.evalLoss! < $1.evalLoss! } ?? last
        }
        let url = workspace.absolute(best.path)
        try verifyRecorded(url, sha256: best.sha256, study: study)
        let file = try SafeTensors.read(url)
        for tensor in objective.trainable { tensor.copyValues(from: try file.tensor(tensor.name!)) }
        recorder.markBest(step: best.step)
        return (best.step, best.evalLoss)
    }
}

/// The order examples are visited in: a fresh seeded shuffle each epoch.
struct ExampleOrder {
    let count: Int
    let rng: SeededGenerator
    private var epoch = -1
    private var permutation: [Int] = []

    init(count: Int, rng: SeededGenerator) {
        self.count = count
        self.rng = rng
    }

    /// The example at position `position` of the endless stream of epochs.
    mutating func example(at position: Int) -> Int {
        let wanted = position / count
        if wanted != epoch {
            var generator = rng.fork(wanted)
            permutation = Array(0..<count)
            // Fisher-Yates with our own generator: the same on every platform.
            for i in stride(from: count - 1, to: 0, by: -1) {
                permutation.swapAt(i, Int(generator.next() % UInt64(i + 1)))
            }
            epoch = wanted
        }
        return permutation[position % count]
    }
}

extension TrainSpec {
    var samplesPerStep: Int { microBatch * accumulation }

    /// Optimizer steps between points of the held-out curve: `eval_every`, or about 20 points a run
    /// (checkpoints and the last step add theirs).
    func curveInterval(totalSteps: Int) -> Int {
        evalEvery > 0 ? evalEvery : max(1, (totalSteps + 19) / 20)
    }

    /// Optimizer steps over `trainCount` examples: the epochs', capped by `max_steps`.
    func totalSteps(trainCount: Int) -> Int {
        let byEpochs = Int((epochs * Double(trainCount) / Double(samplesPerStep)).rounded(.up))
        return maxSteps > 0 ? (epochs > 0 ? min(byEpochs, maxSteps) : maxSteps) : byEpochs
    }
}
