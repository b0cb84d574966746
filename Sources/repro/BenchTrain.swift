import ArgumentParser
import Engine
import Foundation
import Model
import Pipeline
import Study

/// Training speed of a study's configuration, optionally beside transformers + peft on the same one.
struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Times full training steps (forward, backward, clipping, AdamW) of a study's configuration.",
        discussion: """
            By default the paper's default configuration as experiment 9 trains it: the default-size \
            model with its studies/defaults.toml settings (dropout included), LoRA r 32 / alpha 64 / \
            dropout 0.05 on the language model's attention projections, the vision encoder, the \
            Q-Former and the last 4 language-model layers trained, micro-batch 2 with 16 accumulation \
            steps (one optimizer step per 32 samples). Weights are fresh (speed does not depend on them).

            Each sample: an image of the study's size (96x96 in studies/defaults.toml), a 24-token \
            instruction, and a language-model sequence of the query tokens, a 24-token prompt and a \
            40-token response (the loss is on the response).

            --reference runs tools/bench_hf.py on the identical configuration in the same call.
            """)

    @OptionGroup var timed: TimedStudyOptions
    @Option(help: "Micro-batch size (default: the study's).") var batch: Int?
    @Option(help: "Micro-batches per optimizer step (default: the study's; repro runs them as one weighted batch, transformers loops).") var accumulation: Int?
    @Option(help: "Prompt tokens per sample.") var prompt = 24
    @Option(help: "Response tokens per sample.") var response = 40
    @Option(help: "Q-Former instruction tokens per sample.") var instruction = 24
    @Option(help: "Seconds to time for, after two warm-up steps.") var seconds = 10.0
    @Flag(help: "Also run tools/bench_hf.py (transformers + peft on PyTorch) and print the ratio.") var reference = false
    @Option(help: "Python interpreter for --reference.") var python = "python3"
    @OptionGroup var output: OutputOptions
    @Flag(help: "Also print where the time goes, per op, forward and backward, and per sgemm shape.") var profileOps = false
    @Option(parsing: .upToNextOption, help: "Thread counts to time one after another, both sides alike (e.g. --threads 1 2; default: as OpenBLAS is set).")
    var threads: [Int] = []

    func validate() throws {
        if let bad = threads.first(where: { $0 <= 0 }) { throw ValidationError("--threads: \(bad) is not a positive thread count") }
    }

    /// One thread count's figures: ours, where the time went, and the reference's when asked for.
    struct Timing {
        let threads: Int
        let ours: Measurement
        let report: OpProfiler.Report
        let steps: Int
        let seconds: Double
        let theirs: [String: Any]?

        var ratio: Double? { (theirs?["samples_per_second"] as? Double).map { ours.samplesPerSecond / $0 } }
    }

    func run() throws {
        let resolved = try timed.resolved()
        let spec = resolved.spec
        let config = spec.model
        let layers = config.textConfig.numHiddenLayers
        guard let trainable = TrainableParts(spec: spec.train.trainable, layers: layers) else {
            throw ValidationError("\(resolved.file): train.trainable = \"\(spec.train.trainable)\" is not a set of parts bench can time")
        }
        let (batch, accumulation) = (self.batch ?? spec.train.microBatch, self.accumulation ?? spec.train.accumulation)
        let model = InstructBlip(config: config, seed: 1)
        if let lora = spec.lora.config { model.addLoRA(lora) }
        let counts = model.setTrainable(trainable)
        let optimizer = AdamW(parameters: model.parameters.trainable, weightDecay: spec.train.weightDecay)
        let inputs = syntheticBatch(config, rows: batch * accumulation)
        let context = ForwardContext(training: true, rng: SeededGenerator(seed: 2))
        let weights = InstructBlip.microBatchWeights(model.shiftedTargets(inputs.labels!, batch: inputs.batchSize),
                                                     rows: [Int](repeating: batch, count: accumulation))
        let arguments = reference ? try referenceArguments(spec, trainable: trainable, batch: batch, accumulation: accumulation, file: resolved.file) : []

        func step() throws {
            let (_, loss) = try model.forward(inputs, context, targetWeights: weights, allLogits: false)
            loss!.backward()
            clipGradientNorm(optimizer.parameters, maxNorm: spec.train.maxGradNorm)
            optimizer.step(learningRate: spec.train.learningRate)
            optimizer.zeroGradients()
        }
        var timings: [Timing] = []
        for count in threads.isEmpty ? [BLAS.threads] : threads {
            BLAS.useThreads(count)
            for _ in 0..<2 { try step() }
            let profiler = OpProfiler()
            let (steps, elapsed) = try OpProfiler.$current.withValue(profiler) { try timeRepeatedly(seconds: seconds, step) }
            let report = profiler.report
            let peak = SgemmBenchmark.gflops(size: 1024, seconds: 1)
            let ours = Measurement(
                samplesPerSecond: Double(steps * batch * accumulation) / elapsed, stepMilliseconds: elapsed / Double(steps) * 1e3,
                gemmGflops: report.gemmFlops / elapsed / 1e9, peakGflops: peak, residentMegabytes: peakResidentMegabytes())
            let theirs = reference ? try runHuggingFaceReference(config, python: python, arguments: arguments + ["--threads", "\(count)"]) : nil
            timings.append(Timing(threads: count, ours: ours, report: report, steps: steps, seconds: elapsed, theirs: theirs))
        }

        if output.json {
            let runs = timings.map { timing -> [String: Any] in
                var run: [String: Any] = ["threads": timing.threads, "repro": timing.ours.dictionary]
                if let theirs = timing.theirs { run["transformers"] = theirs }
                if let ratio = timing.ratio { run["ratio"] = ratio }
                return run
            }
            return try output.printJSON(["runs": runs, "trainable_parameters": counts.trainable, "study": resolved.name,
                                         "parameters": counts.total, "kernel": BLASKernel.selection.coreName])
        }
        let lora = spec.lora.r > 0 ? "LoRA r \(spec.lora.r) alpha \(Int(spec.lora.alpha)) dropout \(spec.lora.dropout)" : "no LoRA"
        print("study    \(resolved.name): \(counts.total) parameters, \(counts.trainable) trainable (\(lora); trains \(spec.train.trainable))")
        let size = config.visionConfig.imageSize
        print("batch    \(accumulation) x \(batch) x (\(size)x\(size) image, \(instruction)-token instruction, \(config.numQueryTokens)+\(prompt)+\(response) LM tokens) per step")
        print("kernel   \(BLASKernel.selection.coreName); sgemm peak here (n = 1024) "
              + timings.map { String(format: "%.1f GFLOP/s at %d thread%@", $0.ours.peakGflops, $0.threads, $0.threads == 1 ? "" : "s") }.joined(separator: ", "))
        print("")
        print("                     threads   samples/s   ms/step   GFLOP/s (share of peak)   peak RSS MB")
        for timing in timings {
            print(timing.ours.row("repro", threads: timing.threads))
            if let theirs = timing.theirs, let rate = theirs["samples_per_second"] as? Double {
                let stepMs = theirs["step_ms"] as? Double ?? 0, rss = theirs["peak_rss_mb"] as? Double ?? 0
                print("transformers+peft".padding(toLength: 20, withPad: " ", startingAt: 0)
                      + String(format: "%8d %11.1f %9.1f   %23@ %13.0f", timing.threads, rate, stepMs, "-", rss))
            }
        }
        let ratios = timings.compactMap { timing in timing.ratio.map { String(format: "%.2fx at %d thread%@", $0, timing.threads, timing.threads == 1 ? "" : "s") } }
        if !ratios.isEmpty { print("\nrepro / transformers, samples per second: " + ratios.joined(separator: ", ")) }
        guard profileOps else { return }
        for timing in timings {
            print("\n\(timing.threads) thread\(timing.threads == 1 ? "" : "s"): " + timing.report.gemmSummary(seconds: timing.seconds, steps: timing.steps))
            print("")
            print(timing.report.opTable(steps: timing.steps))
            print("")
            print(timing.report.gemmTable(steps: timing.steps))
        }
    }

    /// tools/bench_hf.py's arguments for the same configuration; it knows the paper's freezing only.
    func referenceArguments(_ spec: StudySpec, trainable: TrainableParts, batch: Int, accumulation: Int, file: String) throws -> [String] {
        let layers = spec.model.textConfig.numHiddenLayers
        guard trainable == .paper(lastLayers: trainable.languageModelLayers.count, of: layers) else {
            throw ValidationError("--reference: \(file) trains \"\(spec.train.trainable)\"; tools/bench_hf.py mirrors the paper's freezing (\"paper:N\") only")
        }
        return ["--batch", "\(batch)", "--accumulation", "\(accumulation)", "--prompt", "\(prompt)", "--response", "\(response)",
                "--instruction", "\(instruction)", "--lora-rank", "\(spec.lora.r)", "--lora-alpha", "\(spec.lora.alpha)",
                "--lora-dropout", "\(spec.lora.dropout)", "--lora-targets", spec.lora.targets.joined(separator: ","),
                "--last-layers", "\(trainable.languageModelLayers.count)", "--weight-decay", "\(spec.train.weightDecay)",
                "--seconds", "\(seconds)"]
    }

    /// A fixed batch (all micro-batches of one step) of random pixels and tokens of the configured lengths.
    func syntheticBatch(_ config: InstructBlipConfig, rows: Int) -> ModelInputs {
        var rng = SeededGenerator(seed: 3)
        let q = config.numQueryTokens, v = config.textConfig.vocabSize, length = q + prompt + response
        var ids: [Int32] = [], labels: [Int32] = []
        for _ in 0..<rows {
            let text = (0..<(prompt + response)).map { _ in Int32(4 + Int(rng.next() % UInt64(v - 4))) }
            ids += [Int32](repeating: Int32(config.imageTokenIndex), count: q) + text
            labels += [Int32](repeating: ignoreIndex, count: q + prompt) + text.suffix(response)
        }
        let size = config.visionConfig.imageSize
        return ModelInputs(
            pixelValues: Tensor.randomNormal([rows, 3, size, size], std: 1, using: &rng), inputIds: ids,
            attentionMask: [Int32](repeating: 1, count: rows * length),
            qformerInputIds: (0..<(rows * instruction)).map { _ in Int32(1 + Int(rng.next() % UInt64(config.qformerConfig.vocabSize - 1))) },
            qformerAttentionMask: [Int32](repeating: 1, count: rows * instruction), labels: labels)
    }
}

/// The study whose configuration a bench times (fresh weights: speed does not depend on them).
struct TimedStudyOptions: ParsableArguments {
    @Option(help: "The study whose configuration (model, LoRA, trained parts, batch) to time (a name or unique prefix).") var study = "exp09"
    @OptionGroup var project: ProjectOptions

    func resolved() throws -> ResolvedStudy { try project.catalog().study(named: study) }
}

/// One side of the comparison.
struct Measurement {
    let samplesPerSecond, stepMilliseconds, gemmGflops, peakGflops, residentMegabytes: Double

    var dictionary: [String: Double] {
        ["samples_per_second": samplesPerSecond, "step_ms": stepMilliseconds, "gflops": gemmGflops,
         "share_of_sgemm_peak": gemmGflops / peakGflops, "peak_rss_mb": residentMegabytes]
    }

    func row(_ name: String, threads: Int) -> String {
        name.padding(toLength: 20, withPad: " ", startingAt: 0)
            + String(format: "%8d %11.1f %9.1f   %10.1f (%4.0f%%)        %13.0f", threads, samplesPerSecond, stepMilliseconds,
                     gemmGflops, gemmGflops / peakGflops * 100, residentMegabytes)
    }
}

/// The process's peak resident memory (VmHWM), in megabytes.
func peakResidentMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
    else { return 0 }
    return kilobytes / 1024
}
