import ArgumentParser
import Engine
import Foundation
import Model
import Pipeline
import Study

/// Decoding speed of the scale model, optionally beside transformers on the same configuration.
struct BenchGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Times greedy decoding with the KV cache (new tokens per second) at several batch sizes.",
        discussion: """
            The model is a study's (fresh weights; default experiment 9, the paper's default size). \
            Each request: an image of the study's size, a 24-token instruction, and a prompt of the \
            query tokens and 24 text tokens; every row decodes exactly --new-tokens tokens (end of \
            sequence is held back until then, as transformers' min_new_tokens), so both sides do the \
            same work. The time covers the whole call: the vision encoder, the Q-Former, the prompt \
            and the decoding.

            --reference runs tools/bench_hf.py --generate on the identical configuration in the same call.
            """)

    @OptionGroup var timed: TimedStudyOptions
    @Option(parsing: .upToNextOption, help: "Batch sizes to time (e.g. --batches 1 8).") var batches: [Int] = [1, 8]
    @Option(help: "Prompt text tokens per request (after the query tokens).") var prompt = 24
    @Option(help: "Q-Former instruction tokens per request.") var instruction = 24
    @Option(help: "New tokens decoded per request.") var newTokens = 32
    @Option(help: "Seconds to time each batch size for, after one warm-up call.") var seconds = 5.0
    @Flag(help: "Also run tools/bench_hf.py --generate (transformers on PyTorch) and print the ratios.") var reference = false
    @Option(help: "Python interpreter for --reference.") var python = "python3"
    @OptionGroup var output: OutputOptions
    @Flag(help: "Also print where the time goes at each batch size, per op and per sgemm shape (timed again, under the profiler).") var profileOps = false

    func validate() throws {
        if let bad = batches.first(where: { $0 <= 0 }) { throw ValidationError("--batches: \(bad) is not a positive batch size") }
    }

    func run() throws {
        let sizes = batches
        let config = try timed.resolved().spec.model
        let model = InstructBlip(config: config, seed: 1)
        let options = GenerationOptions(maxNewTokens: newTokens, minNewTokens: newTokens)
        var ours: [Int: Double] = [:]
        var profiles: [(batch: Int, report: OpProfiler.Report, calls: Int, seconds: Double)] = []
        for batch in sizes {
            let requests = syntheticRequests(config, count: batch)
            _ = try model.generate(requests, options: options)
            let (calls, elapsed) = try timeRepeatedly(seconds: seconds) { _ = try model.generate(requests, options: options) }
            ours[batch] = Double(calls * batch * newTokens) / elapsed
            guard profileOps else { continue }
            let profiler = OpProfiler()
            let (profiledCalls, profiledSeconds) = try OpProfiler.$current.withValue(profiler) {
                try timeRepeatedly(seconds: seconds) { _ = try model.generate(requests, options: options) }
            }
            profiles.append((batch, profiler.report, profiledCalls, profiledSeconds))
        }
        let theirs: [String: Double]? = reference ? try runHuggingFaceReference(config, python: python, arguments: [
            "--generate", "--batches", sizes.map(String.init).joined(separator: ","), "--prompt", "\(prompt)",
            "--instruction", "\(instruction)", "--new-tokens", "\(newTokens)", "--seconds", "\(seconds)",
        ])["tokens_per_second"] as? [String: Double] : nil

        if output.json {
            var payload: [String: Any] = ["repro": Dictionary(uniqueKeysWithValues: ours.map { (String($0.key), $0.value) }),
                                          "kernel": BLASKernel.selection.coreName, "threads": BLAS.threads, "new_tokens": newTokens]
            if let theirs { payload["transformers"] = theirs }
            return try output.printJSON(payload)
        }
        let size = config.visionConfig.imageSize
        print("requests \(size)x\(size) image, \(instruction)-token instruction, \(config.numQueryTokens)+\(prompt) prompt tokens, \(newTokens) new tokens (greedy, KV cache)")
        print("kernel   \(BLASKernel.selection.coreName), \(BLAS.threads) threads")
        print("")
        print("batch   repro tokens/s" + (theirs == nil ? "" : "   transformers tokens/s   ratio"))
        for batch in sizes {
            var line = String(format: "%5d   %15.1f", batch, ours[batch]!)
            if let rate = theirs?[String(batch)] { line += String(format: "   %22.1f   %5.2fx", rate, ours[batch]! / rate) }
            print(line)
        }
        for profile in profiles {
            let (report, calls, elapsed) = (profile.report, profile.calls, profile.seconds)
            print(String(format: "\nbatch %d, per call (%d new tokens each): %.2f ms; ", profile.batch, newTokens, elapsed / Double(calls) * 1e3)
                  + report.gemmSummary(seconds: elapsed, steps: calls, per: "call"))
            print("")
            print(report.opTable(steps: calls))
            print("")
            print(report.gemmTable(steps: calls, top: 8))
        }
    }

    /// `count` requests of random pixels and tokens of the configured lengths.
    func syntheticRequests(_ config: InstructBlipConfig, count: Int) -> [GenerationRequest] {
        var rng = SeededGenerator(seed: 5)
        let size = config.visionConfig.imageSize, v = config.textConfig.vocabSize
        return (0..<count).map { _ in
            let text = (0..<prompt).map { _ in Int32(4 + Int(rng.next() % UInt64(v - 4))) }
            return GenerationRequest(
                pixels: Tensor.randomNormal([3, size, size], std: 1, using: &rng),
                promptIds: [Int32](repeating: Int32(config.imageTokenIndex), count: config.numQueryTokens) + text,
                qformerIds: (0..<instruction).map { _ in Int32(1 + Int(rng.next() % UInt64(config.qformerConfig.vocabSize - 1))) })
        }
    }
}
