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

            There is no transformers counterpart: the evaluation is this project's pipeline (`repro \
            bench generate --reference` compares its decoding, the larger part).
            """)

    @OptionGroup var options: StudyOptions
    @Option(help: "The study whose evaluation to time (a name or unique prefix).") var study = "exp09"
    @OptionGroup var output: OutputOptions

    func run() throws {
        let timing = try options.runner(progress: false).timeEvaluation(study)
        let phases = timing.phases
        let total = phases.reduce(0) { $0 + $1.seconds }
        if output.json {
            let payload: [String: Any] = ["study": study, "kernel": BLASKernel.selection.coreName, "threads": BLAS.threads,
                                          "total_seconds": total,
                                          "phases": phases.map { ["phase": $0.name, "seconds": $0.seconds] as [String: Any] },
                                          "compared_with_stored": timing.compared, "differing_from_stored": timing.differing]
            return try output.printJSON(payload)
        }
        print("kernel   \(BLASKernel.selection.coreName), \(BLAS.threads) threads")
        print("")
        let width = max(phases.map(\.name.count).max() ?? 0, 5)
        print("phase".padding(toLength: width, withPad: " ", startingAt: 0) + "   seconds   share")
        for (name, seconds) in phases.map({ ($0.name, $0.seconds) }) + [("total", total)] {
            print(name.padding(toLength: width, withPad: " ", startingAt: 0) + String(format: "   %7.2f   %4.0f%%", seconds, 100 * seconds / max(total, 1e-9)))
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
