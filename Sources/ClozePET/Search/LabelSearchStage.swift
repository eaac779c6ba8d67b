import ClozeModels
import ClozeTensor
import Foundation

/// Settings of `cloze search labels`.
public struct LabelSearchOptions {
    public var modelDirectory: String
    public var seeds: [Int]
    public var outputDirectory: String
    /// Which pattern (0-based, across the task's prompt sets) the words are searched for.
    public var patternIndex = 0
    /// Candidates per class by mean logit (LM-BFF `--k_likely`, 100; 1000 for TREC).
    public var kLikely = 100
    /// Re-rank each class's candidates by closeness to the task's own words and keep this many
    /// (LM-BFF `--use_seed_labels --k_neighbors`, used for TREC); nil: off.
    public var kNeighbors: Int?
    /// Assignments kept after the zero-shot pruning (LM-BFF `--n_pairs`).
    public var top = 20
    /// The best `rerank` assignments are fine-tuned (prompt-based, `training`) and scored on the dev split.
    public var rerank = 0
    public var training = PETTrainingConfig()
    public var dataRoot: String?
    public var maxLength: Int?
    public var evalBatchSize = 32
    public var progress = true
    public init(modelDirectory: String, seeds: [Int], outputDirectory: String) {
        self.modelDirectory = modelDirectory; self.seeds = seeds; self.outputDirectory = outputDirectory
    }
}

/// What one seed's label search found (written to search.json).
public struct LabelSearchResult: Codable, Sendable {
    public var seed: Int
    public var pattern: String
    public var candidatesPerClass: [[String]]
    public var assignments: [LabelAssignment]
    public var chosen: LabelAssignment
    public var verbalizerFile: String
    public var rerankedOn: String?
    public var seconds: Double
}

/// Automatic label words for a task, per seed: full-vocabulary MLM logits at the mask of the training
/// examples, `LabelSearch`'s candidates and pruning, optional re-ranking by fine-tuning on dev, and a
/// verbalizer file of the chosen words.
public struct LabelSearchRun {
    public let task: TaskDescriptor
    public let options: LabelSearchOptions
    public let vocabulary: any TokenVocabulary
    public var log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }

    public init(task: TaskDescriptor, options: LabelSearchOptions, vocabulary: any TokenVocabulary) {
        self.task = task; self.options = options; self.vocabulary = vocabulary
    }

    public func run() throws -> [LabelSearchResult] {
        try searchEverySeed(options.seeds, outputDirectory: options.outputDirectory) { try search(seed: $0) }
    }

    /// The task's pattern `patternIndex` and the verbalizer of its prompt set (the seed words).
    func patternAndSeedWords(columns: [String]) throws -> (Pattern, Verbalizer) {
        let all = try task.loadPrompts(columns: columns).flatMap { set in set.patterns.map { ($0, set.verbalizer) } }
        guard options.patternIndex >= 0 && options.patternIndex < all.count else {
            throw PETError(.noPatterns, "--pattern \(options.patternIndex + 1): the task has \(all.count) pattern\(all.count == 1 ? "" : "s")",
                           at: SourceLocation(file: task.path))
        }
        return all[options.patternIndex]
    }

    func search(seed: Int) throws -> LabelSearchResult {
        let start = Date()
        let train = try task.loadSplit("train", seed: seed, dataRoot: options.dataRoot)
        let (pattern, seedWords) = try patternAndSeedWords(columns: train.columnNames)
        let model = try ModelLoader.loadMaskedLM(directory: options.modelDirectory)
        let V = model.config.vocabSize, L = task.labels.count
        let builder = PETInputBuilder(pattern: pattern, vocabulary: vocabulary, maxLength: options.maxLength ?? task.maxLength ?? 128)
        let features = try PETFeatures.build(train.examples, builder: builder)
        var noRNG: SeededRNG? = nil
        let bar = options.progress ? ProgressBar("label search seed \(seed)", total: features.count) : nil
        let logits = try BatchedInference.run(features, batchSize: options.evalBatchSize, padID: vocabulary.specialTokens.padID,
                                              columns: V, progress: { bar?.update($0) }) { batch in
            try model.mlmLogits(hidden: try model.encode(batch.encoded, training: false, rng: &noRNG, tape: nil),
                                positions: batch.maskRows, vocabularyRows: nil, tape: nil)
        }
        let labels = train.examples.map { $0.label! }
        let words = LabelSearch.wordRows(vocabulary: vocabulary, size: V)
        var candidates = LabelSearch.likelyWords(logits: logits, vocabularySize: V, labels: labels, classes: L,
                                                 allowed: Set(words.keys), k: options.kLikely)
        if let k = options.kNeighbors, let head = model.mlmHead {
            let seeds = try seedWords.resolve(labels: task.labels, vocabulary: vocabulary)
            candidates = LabelSearch.nearestToSeeds(candidates, seeds: seeds.labelColumns.map { seeds.vocabularyRows[$0[0]] },
                                                    embeddings: head.decoderWeight, k: k)
        }
        var assignments = LabelSearch.bestAssignments(logits: logits, vocabularySize: V, labels: labels, candidates: candidates, top: options.top)
        for i in assignments.indices { assignments[i].words = assignments[i].rows.map { words[$0]! } }
        guard !assignments.isEmpty else {
            throw PETError(.noWords, "label search found no assignment of distinct single-token words; raise --k-likely", at: SourceLocation(file: task.path))
        }
        log("seed \(seed): best by zero-shot train accuracy: " + assignments.prefix(5).map {
            "\($0.words.joined(separator: "/")) \(String(format: "%.3f", $0.trainAccuracy))" }.joined(separator: ", "))
        let dir = options.outputDirectory + "/seed-\(seed)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var rerankedOn: String?
        if options.rerank > 0 {
            rerankedOn = try rerank(&assignments, pattern: pattern, seed: seed, directory: dir)
        }
        let chosen = assignments.indices.max { a, b in
            let (x, y) = (assignments[a].devAccuracy ?? -1, assignments[b].devAccuracy ?? -1)
            return x != y ? x < y : a > b
        }.map { assignments[$0] }!
        let file = options.outputDirectory + "/labels-seed-\(seed).txt"
        try verbalizerText(chosen, pattern: pattern, seed: seed, rerankedOn: rerankedOn).write(toFile: file, atomically: true, encoding: .utf8)
        log("seed \(seed): chose \(chosen.words.joined(separator: "/")) -> \(file)")
        return LabelSearchResult(seed: seed, pattern: pattern.source, candidatesPerClass: candidates.map { $0.prefix(20).map { words[$0]! } },
                                 assignments: assignments, chosen: chosen, verbalizerFile: file, rerankedOn: rerankedOn,
                                 seconds: Date().timeIntervalSince(start))
    }

    func verbalizerText(_ a: LabelAssignment, pattern: Pattern, seed: Int, rerankedOn: String?) -> String {
        var lines = ["# Found by `cloze search labels` (LM-BFF automatic label words) for task \(task.name), seed \(seed),",
                     "# pattern \(pattern.source)",
                     String(format: "# zero-shot train accuracy %.4f", a.trainAccuracy)
                        + (a.devAccuracy.map { String(format: ", dev accuracy after fine-tuning %.4f (%@)", $0, rerankedOn ?? "") } ?? "")]
        lines += zip(task.labels, a.words).map { "\($0): \($1)" }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension LabelSearchRun {
    /// LM-BFF's re-ranking: the first `rerank` assignments each fine-tune a fresh pattern model on the
    /// seed's training examples, scored on its dev split. Returns the split's name.
    func rerank(_ assignments: inout [LabelAssignment], pattern: Pattern, seed: Int, directory dir: String) throws -> String {
        let reranker = try SearchReranker(task: task, options: options, vocabulary: vocabulary)
        let patternFile = dir + "/pattern.txt"
        try (pattern.source + "\n").write(toFile: patternFile, atomically: true, encoding: .utf8)
        for i in 0..<min(options.rerank, assignments.count) {
            let file = dir + "/candidate-\(i + 1).txt"
            try (zip(task.labels, assignments[i].words).map { "\($0): \($1)" }.joined(separator: "\n") + "\n")
                .write(toFile: file, atomically: true, encoding: .utf8)
            assignments[i].devAccuracy = try reranker.devAccuracy(patternFile: patternFile, verbalizerFile: file, seed: seed)
            log(String(format: "seed %d: candidate %d %@: dev accuracy %.4f after %d steps", seed, i + 1,
                       assignments[i].words.joined(separator: "/"), assignments[i].devAccuracy ?? 0, options.training.maxSteps))
        }
        return "dev"
    }
}

/// Runs `search` for every seed, rewriting `outputDirectory/search.json` with the results so far after
/// each one, so a stopped search keeps what it found (label and template search alike).
func searchEverySeed<R: Encodable>(_ seeds: [Int], outputDirectory: String, search: (Int) throws -> R) throws -> [R] {
    try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
    let encoder = JSONEncoder.readable
    var results: [R] = []
    for seed in seeds {
        results.append(try search(seed))
        try encoder.encode(results).write(to: URL(fileURLWithPath: (outputDirectory as NSString).appendingPathComponent("search.json")))
    }
    return results
}

/// What the label and template searches share: the model, seeds and output, and how their best
/// candidates are re-ranked by prompt-based fine-tuning on dev.
public protocol SearchRunOptions {
    var modelDirectory: String { get }
    var seeds: [Int] { get }
    var outputDirectory: String { get }
    /// The best `rerank` candidates are fine-tuned (prompt-based, `training`) and scored on the dev split.
    var rerank: Int { get }
    var training: PETTrainingConfig { get }
    var dataRoot: String? { get }
    var maxLength: Int? { get }
    var evalBatchSize: Int { get }
    var progress: Bool { get }
}

extension LabelSearchOptions: SearchRunOptions {}

/// Prompt-based fine-tuning of one (pattern file, verbalizer file) on a seed's training examples,
/// scored on the task's dev split: how LM-BFF re-ranks searched label words and templates.
struct SearchReranker {
    let task: TaskDescriptor
    let options: PETExperimentOptions
    let vocabulary: any TokenVocabulary

    init(task: TaskDescriptor, options search: some SearchRunOptions, vocabulary: any TokenVocabulary) throws {
        guard task.splits["dev"] != nil else {
            throw PETError(.badTaskDescriptor, "--rerank needs a dev split; task '\(task.name)' has \(task.splits.keys.sorted().joined(separator: ", "))",
                           at: SourceLocation(file: task.path))
        }
        var o = PETExperimentOptions(modelDirectory: search.modelDirectory, seeds: [])
        o.training = search.training
        o.zeroShot = false; o.fineTune = false; o.distill = false
        o.dataRoot = search.dataRoot; o.maxLength = search.maxLength; o.evalBatchSize = search.evalBatchSize; o.progress = search.progress
        self.task = task; self.options = o; self.vocabulary = vocabulary
    }

    func devAccuracy(patternFile: String, verbalizerFile: String, seed: Int) throws -> Double? {
        var t = task
        t.prompts = [.init(patterns: patternFile, verbalizer: verbalizerFile)]
        t.splits["test"] = t.splits["dev"]
        var o = options
        o.seeds = [seed]
        var experiment = PETExperiment(task: t, options: o, vocabulary: vocabulary)
        experiment.log = { _ in }
        return try experiment.run().patterns.first?.scores.accuracyMean
    }
}
