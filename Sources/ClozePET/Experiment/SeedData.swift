import ClozeTensor
import Foundation

/// Everything one seed of an experiment trains and scores on: the (K-shot) training examples, the
/// test set with its gold classes, the unlabelled pool and the task's prompts.
struct SeedData {
    var seed: Int
    var train: Dataset
    var test: Dataset
    var gold: [Int]
    var pool: [Example]
    var prompts: [(patterns: [Pattern], verbalizer: Verbalizer)]
    var hasTest: Bool { !gold.isEmpty }
}

extension PETExperiment {
    /// Stage 1: loads and samples the data of one seed.
    func loadSeedData(seed: Int) throws -> SeedData {
        var train = try task.loadSplit("train", seed: seed, dataRoot: options.dataRoot)
        // Without a test split (a user's own few examples and pool) everything trains and is saved, unscored.
        var test = task.splits["test"] == nil ? Dataset(examples: [], labels: task.labels, columnNames: train.columnNames, file: "")
            : try task.loadSplit("test", seed: seed, dataRoot: options.dataRoot)
        let fullTrain = train.examples
        if let k = options.k { train.examples = try FewShotSampler.sample(train, perClass: k, seed: UInt64(seed)) }
        if let limit = options.testLimit { test.examples = Array(test.examples.prefix(limit)) }
        var pool: [Example] = []
        if options.unlabeledCount > 0 {
            var ex = try unlabeledExamples(seed: seed, fullTrain: fullTrain, sampled: train.examples)
            var rng = SeededRNG(seed: UInt64(seed))
            FewShotSampler.shuffle(&ex, &rng)
            pool = Array(ex.prefix(options.unlabeledCount))
        }
        let data = SeedData(seed: seed, train: train, test: test, gold: test.examples.map { $0.label! }, pool: pool,
                            prompts: try task.loadPrompts(columns: train.columnNames))
        log("seed \(seed): \(train.examples.count) training, \(test.examples.count) test, \(pool.count) unlabelled examples")
        if !data.hasTest && options.saveDirectory == nil {
            log("warning: the task has no test split and nothing is saved (--save / --save-pattern-models): the trained models will be discarded")
        }
        return data
    }

    /// The pool before sampling: the task's unlabelled split (or its pool file, minus excluded splits);
    /// for a task without one, the train split minus the sampled K-shot examples, as PET does.
    func unlabeledExamples(seed: Int, fullTrain: [Example], sampled: [Example]) throws -> [Example] {
        guard task.splits["unlabeled"] == nil && task.unlabeled == nil else {
            let (all, removed) = try task.loadUnlabeled(seed: seed, dataRoot: options.dataRoot)
            if removed > 0 { log("seed \(seed): removed \(removed) train/dev/test sentences from the unlabelled pool \(all.file)") }
            return all.examples
        }
        let used = Set(sampled.map(\.location))
        let rest = fullTrain.filter { !used.contains($0.location) }.map { Example(fields: $0.fields, label: nil, location: $0.location) }
        guard !rest.isEmpty else {
            throw PETError(.emptyDataset, "task '\(task.name)' has no unlabelled pool and its train split has no examples beyond the \(sampled.count) training ones; give --pool FILE or --k", at: SourceLocation(file: task.path))
        }
        log("seed \(seed): the task has no unlabelled split: the pool is drawn from the train split minus the \(sampled.count) training examples (\(rest.count) left)")
        return rest
    }
}
