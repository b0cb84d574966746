import ArgumentParser

struct Repro: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repro",
        abstract: "Reproduces 'Examining the Potential of Multimodality for Vision-Language Models' (InstructBLIP + LoRA) on a CPU.",
        discussion: """
            The whole paper is `make paper`; the tests are `make test`. `repro run` trains and \
            evaluates the studies under studies/; `repro figures`, `repro tables`, `repro check` and \
            `repro report` read their stored results and never train. Every command finds the project \
            from any folder inside it; README.md explains each part.
            """,
        subcommands: [RunCommand.self, StatusCommand.self, ShowCommand.self, ProbeCommand.self, ListCommand.self, KeysCommand.self,
                      FiguresCommand.self, TablesCommand.self, CheckCommand.self, ReportCommand.self, Bench.self, DataCommand.self,
                      ModelCommand.self, ParityCommand.self, Score.self, WorkerCommand.self])
}
