import ArgumentParser
import ClozeTensor

struct Cloze: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cloze",
        abstract: "Few-shot prompt-based learning on masked language models.",
        subcommands: [FillMaskCommand.self, BenchCommand.self, TokenizeCommand.self, BenchTokenizerCommand.self, BenchDecodeCommand.self,
                      TrainCommand.self, EvalCommand.self, LabelCommand.self, SearchCommand.self, SetFitCommand.self])
}
// Before any work: OpenBLAS may have fallen back to kernels far slower than this CPU supports.
BLASKernels.reexecWithFasterKernelsIfNeeded()
Cloze.main()
