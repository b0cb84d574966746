import ArgumentParser
import Engine
import Foundation
import Pipeline
import Study

/// The time one study's evaluation takes, phase by phase.
struct BenchEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Times one trained study's full evaluation, phase by phase.",
        discussion: """
            Repeats the evaluation a run ends with (test loss, replies to the test queries, ROUGE and \
            BLEU, CLIP score, the MME-style benchmark, each with the image and with the blank image of \
            the blind control) on the study's stored model; its outputs go to a temporary folder, the \
            workspace is not changed. The study must have a finished run (`repro run STUDY`). It computes \
            with the study's threads (train.threads; the experiments take one), as its run did. The \
            numbers are compared with those the run stored: on the machine and kernel that trained \
            it, a change that only makes the evaluation faster leaves every one of them bit for bit.

            With --profile-ops each phase also shows its time in matrix products and their rate, and \
            the products' total at the sgemm peak measured here: the least time any evaluation that \
            computes the same products can take.

            There is no transformers counterpart: the evaluation is this project's pipeline (`repro \
            bench generate --reference` compares its decoding, the larger part).
            """)

    @OptionGroup var options: StudyOptions
    @Option(help: "The study whose evaluation to time (a name or unique prefix).") var study = "exp09"
    @Flag(help: "Also time each phase's matrix products (under the profiler) and the least time they take at this machine's sgemm peak.")
    var profileOps = false
    @OptionGroup var output: OutputOptions

    func run() throws {
        let runner = try options.runner(progress: false)
        let timing = try profileOps ? OpProfiler.$current.withValue(OpProfiler()) { try runner.timeEvaluation(study) }
            : runner.timeEvaluation(study)
        let phases = timing.phases
        let total = phases.reduce(0) { $0 + $1.seconds }
        // Measured after the evaluation, which set the study's threads.
        let peak = profileOps ? SgemmBenchmark.gflops(size: 1024, seconds: 1) : nil
        let flops = phases.reduce(0) { $0 + $1.gemmFlops }
        if output.json {
            var payload: [String: Any] = ["study": study, "kernel": BLASKernel.selection.coreName, "threads": BLAS.threads,
                                          "total_seconds": total,
                                          "phases": phases.map { phase -> [String: Any] in
                                              var row: [String: Any] = ["phase": phase.name, "seconds": phase.seconds]
                                              if profileOps { row["sgemm_seconds"] = phase.gemmSeconds; row["sgemm_gflop"] = phase.gemmFlops / 1e9 }
                                              return row
                                          },
                                          "compared_with_stored": timing.compared, "differing_from_stored": timing.differing]
            if let peak { payload["sgemm_peak_gflops"] = peak; payload["sgemm_seconds_at_peak"] = flops / 1e9 / peak }
            return try output.printJSON(payload)
        }
        print("kernel   \(BLASKernel.selection.coreName), \(BLAS.threads) threads")
        print("")
        let width = max(phases.map(\.name.count).max() ?? 0, 5)
        print("phase".padding(toLength: width, withPad: " ", startingAt: 0) + "   seconds   share" + (profileOps ? "   sgemm s   GFLOP   GFLOP/s" : ""))
        for phase in phases + [EvaluationPhase(name: "total", seconds: total, gemmSeconds: phases.reduce(0) { $0 + $1.gemmSeconds }, gemmFlops: flops)] {
            var line = phase.name.padding(toLength: width, withPad: " ", startingAt: 0)
                + String(format: "   %7.2f   %4.0f%%", phase.seconds, 100 * phase.seconds / max(total, 1e-9))
            if profileOps {
                line += String(format: "   %7.2f   %5.1f   %7.1f", phase.gemmSeconds, phase.gemmFlops / 1e9, phase.gemmFlops / max(phase.gemmSeconds, 1e-12) / 1e9)
            }
            print(line)
        }
        if let peak {
            print(String(format: "\nsgemm peak here (n = 1024) %.1f GFLOP/s: the products alone take at least %.2f s of the %.2f", peak, flops / 1e9 / peak, total))
        }
        print("")
        if timing.differing.isEmpty {
            print("numbers  all \(timing.compared) equal to those the run stored, bit for bit")
        } else {
            print("numbers  \(timing.differing.count) of \(timing.compared) differ from those the run stored (another machine, kernel or engine):")
            for line in timing.differing { print("  \(line)") }
        }
    }
}
