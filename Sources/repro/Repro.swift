import ArgumentParser

struct Repro: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repro",
        abstract: "Reproduces 'Examining the Potential of Multimodality for Vision-Language Models' (InstructBLIP + LoRA) on a CPU.",
        discussion: """
            The whole paper is `make paper`; the tests are `make test`. The commands below are the parts
            that exist so far; see README.md for what each issue adds.
            """,
        subcommands: [RunCommand.self, StatusCommand.self, ShowCommand.self, ProbeCommand.self, ListCommand.self, FiguresCommand.self, TablesCommand.self,
                      CheckCommand.self, ReportCommand.self, Bench.self, DataCommand.self, ModelCommand.self, ParityCommand.self, Score.self])
}
