import ArgumentParser
import ClozeTensor

struct Cloze: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cloze",
        abstract: "Few-shot prompt-based learning on masked language models.",
        subcommands: [TokenizeCommand.self, BenchTokenizerCommand.self])
}
Cloze.main()
