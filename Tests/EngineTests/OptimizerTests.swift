import Engine
import Testing

/// AdamW, clipping and schedules against PyTorch and `transformers` (Fixtures/adamw.safetensors).
@Suite struct OptimizerTests {
    func setGradient(_ t: Tensor, _ values: [Float]) {
        precondition(values.count == t.count)
        for (i, v) in values.enumerated() { t.grad[i] = v }
    }

    let file: SafeTensors.File
    init() throws { file = try fixture("adamw") }

    @Test func adamWFollowsTorchStepForStep() throws {
        let matrix = try file.tensor("initial.matrix"), vector = try file.tensor("initial.vector")
        matrix.requiresGrad = true
        vector.requiresGrad = true
        // Decay on the matrix only, as the fixture's two parameter groups.
        let optimizer = AdamW(parameters: [matrix, vector], weightDecay: 0.1)
        let rates = try file.tensor("learning_rates").values
        for (step, rate) in rates.enumerated() {
            optimizer.zeroGradients()
            setGradient(matrix, try file.tensor("grad.\(step).matrix").values)
            setGradient(vector, try file.tensor("grad.\(step).vector").values)
            optimizer.step(learningRate: rate)
            #expect(maxDifference(matrix.values, try file.tensor("after.\(step).matrix").values) <= 1e-6, "matrix after step \(step)")
            #expect(maxDifference(vector.values, try file.tensor("after.\(step).vector").values) <= 1e-6, "vector after step \(step)")
        }
        #expect(optimizer.stepCount == rates.count)
    }

    @Test func clippingMatchesTorch() throws {
        let matrix = Tensor(zeros: [4, 3], requiresGrad: true), vector = Tensor(zeros: [5], requiresGrad: true)
        setGradient(matrix, try file.tensor("grad.4.matrix").values)
        setGradient(vector, try file.tensor("grad.4.vector").values)
        let norm = clipGradientNorm([matrix, vector], maxNorm: 1)
        #expect(abs(norm - (try file.tensor("clip.norm").scalar)) <= 1e-5)
        #expect(maxDifference(matrix.gradValues, try file.tensor("clip.matrix").values) <= 1e-6)
        #expect(maxDifference(vector.gradValues, try file.tensor("clip.vector").values) <= 1e-6)
    }

    @Test(arguments: [LearningRateSchedule.Decay.linear, .cosine])
    func schedulesMatchTransformers(decay: LearningRateSchedule.Decay) throws {
        let schedule = LearningRateSchedule(peak: 3e-4, warmupSteps: 4, totalSteps: 20, decay: decay)
        let expected = try file.tensor("schedule.\(decay.rawValue)").values
        for (step, rate) in expected.enumerated() {
            #expect(abs(schedule.rate(atStep: step) - rate) <= 1e-9, "step \(step)")
        }
    }

    @Test func optimizerStateRoundTrips() throws {
        func run(steps: Int, resumeAt: Int?) throws -> [Float] {
            let w = Tensor(shape: [3], values: [1, -2, 0.5], requiresGrad: true, name: "w")
            var optimizer = AdamW(parameters: [w])
            for step in 0..<steps {
                if step == resumeAt {
                    // Save everything, rebuild, restore: the run continues as if uninterrupted.
                    let saved = optimizer.stateTensors(), values = w.detachedCopy()
                    let restored = Tensor(zeros: [3], requiresGrad: true, name: "w")
                    restored.copyValues(from: values)
                    optimizer = AdamW(parameters: [restored])
                    try optimizer.loadState(saved)
                    return try runTail(optimizer, restored, from: step, to: steps)
                }
                try stepOnce(optimizer, w, step)
            }
            return w.values
        }
        func stepOnce(_ optimizer: AdamW, _ w: Tensor, _ step: Int) throws {
            optimizer.zeroGradients()
            sum(w * w * Tensor(shape: [], values: [Float(step + 1)])).backward()
            optimizer.step(learningRate: 0.1)
        }
        func runTail(_ optimizer: AdamW, _ w: Tensor, from: Int, to: Int) throws -> [Float] {
            for step in from..<to { try stepOnce(optimizer, w, step) }
            return w.values
        }
        #expect(try run(steps: 6, resumeAt: 3) == run(steps: 6, resumeAt: nil))
    }
}
