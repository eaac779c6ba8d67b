import ArgumentParser
import ClozePET
import Foundation

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "search",
        abstract: "LM-BFF automatic prompt search: label words and templates.",
        subcommands: [SearchLabelsCommand.self, SearchTemplatesCommand.self])
}

/// How `--rerank` fine-tunes each candidate (shared by both searches).
struct RerankTraining: ParsableArguments {
    @Option(help: "Training steps of each re-ranking run.") var steps = 250
    @Option(name: .customLong("batch-size")) var batchSize = 4
    @Option(help: "Learning rate of the re-ranking runs.") var lr: Float = 1e-5

    var config: PETTrainingConfig {
        var c = PETTrainingConfig()
        c.maxSteps = steps; c.batchSize = batchSize; c.learningRate = lr
        return c
    }
}

struct SearchLabelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "labels",
        abstract: "Automatic label words (LM-BFF generate_labels): per class the words the MLM likes best at the mask, assignments pruned by zero-shot train accuracy, optionally re-ranked by fine-tuning on dev; writes a verbalizer file per seed.")

    @OptionGroup var common: TaskOptions
    @Option(help: "Pattern to search words for: its 1-based number across the task's pattern files.") var pattern = 1
    @Option(name: .customLong("k-likely"), help: "Candidate words per class (LM-BFF k_likely).") var kLikely = 100
    @Option(name: .customLong("k-neighbors"), help: "Keep the candidates closest to the task's own words, this many per class (LM-BFF use_seed_labels + k_neighbors; for many classes).") var kNeighbors: Int?
    @Option(help: "Assignments kept after pruning (LM-BFF n_pairs).") var top = 20
    @Option(help: "Fine-tune the best N assignments and choose by dev accuracy (0: choose by zero-shot train accuracy).") var rerank = 0
    @OptionGroup var rerankTraining: RerankTraining

    func run() throws {
        let task = try common.loadTask()
        let e = try common.experimentOptions(task: task)
        guard pattern >= 1 else { throw ValidationError("--pattern: expected a number from 1") }
        guard kLikely >= 1, top >= 1, rerank >= 0, (kNeighbors ?? 1) >= 1 else { throw ValidationError("--k-likely, --top, --k-neighbors: expected at least 1; --rerank at least 0") }
        var o = LabelSearchOptions(modelDirectory: e.modelDirectory, seeds: e.seeds, outputDirectory: common.out ?? "search-labels-\(task.name)")
        o.patternIndex = pattern - 1; o.kLikely = kLikely; o.kNeighbors = kNeighbors; o.top = top; o.rerank = rerank
        o.training = rerankTraining.config
        o.dataRoot = e.dataRoot; o.maxLength = e.maxLength; o.evalBatchSize = e.evalBatchSize; o.progress = e.progress
        let vocabulary = try TokenizerVocabulary.load(directory: e.modelDirectory)
        let results = try LabelSearchRun(task: task, options: o, vocabulary: vocabulary).run()
        for r in results {
            print(String(format: "seed %d: %@  (train acc %.3f%@, %.1f s)", r.seed, zip(task.labels, r.chosen.words).map { "\($0): \($1)" }.joined(separator: ", "),
                         r.chosen.trainAccuracy, r.chosen.devAccuracy.map { String(format: ", dev acc %.3f", $0) } ?? "", r.seconds)
                  + "  -> " + r.verbalizerFile)
        }
    }
}

struct SearchTemplatesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "templates",
        abstract: "Automatic templates without T5 (LM-BFF auto-T with the masked LM itself): template tokens around the label word filled by beam search, scores summed over the training examples, optionally re-ranked by fine-tuning on dev; writes a pattern file per seed.")

    @OptionGroup var common: TaskOptions
    @Option(help: "Beam width per template shape.") var beam = 10
    @Option(help: "Templates written per seed, best first.") var top = 10
    @Option(help: "Fine-tune the best N templates and order them by dev accuracy (0: by log-probability).") var rerank = 0
    @OptionGroup var rerankTraining: RerankTraining

    func run() throws {
        let task = try common.loadTask()
        let e = try common.experimentOptions(task: task)
        guard beam >= 1, top >= 1, rerank >= 0 else { throw ValidationError("--beam, --top: expected at least 1; --rerank at least 0") }
        var o = TemplateSearchOptions(modelDirectory: e.modelDirectory, seeds: e.seeds, outputDirectory: common.out ?? "search-templates-\(task.name)")
        o.beam = beam; o.top = top; o.rerank = rerank
        o.training = rerankTraining.config
        o.dataRoot = e.dataRoot; o.maxLength = e.maxLength; o.evalBatchSize = e.evalBatchSize; o.progress = e.progress
        let vocabulary = try TokenizerVocabulary.load(directory: e.modelDirectory)
        for r in try TemplateSearchRun(task: task, options: o, vocabulary: vocabulary).run() {
            print(String(format: "seed %d: %@%@  (%.1f s)", r.seed, r.chosen.pattern,
                         r.chosen.devAccuracy.map { String(format: ", dev acc %.3f", $0) } ?? "", r.seconds) + "  -> " + r.patternFile)
        }
    }
}
