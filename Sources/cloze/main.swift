import ArgumentParser

struct Cloze: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cloze",
        abstract: "Few-shot prompt-based learning on masked language models.",
        subcommands: [FillMaskCommand.self, BenchCommand.self, TokenizeCommand.self, BenchTokenizerCommand.self, BenchDecodeCommand.self,
                      TrainCommand.self, EvalCommand.self, LabelCommand.self])
}
Cloze.main()
