import ClozeModels
import ClozeTensor
import Foundation

/// Settings of `cloze search templates`.
public struct TemplateSearchOptions {
    public var modelDirectory: String
    public var seeds: [Int]
    public var outputDirectory: String
    /// Template shapes searched (default: `TemplateShape.defaults` for the task's slots).
    public var shapes: [TemplateShape]?
    /// Beam width per shape (LM-BFF decodes T5 with beam 100; the MLM scores every example per step).
    public var beam = 10
    /// Templates written, best first.
    public var top = 10
    /// The best `rerank` templates are fine-tuned (prompt-based, `training`) and scored on the dev split.
    public var rerank = 0
    public var training = PETTrainingConfig()
    /// Tokens kept per text slot while searching.
    public var slotLimit = 64
    public var dataRoot: String?
    public var maxLength: Int?
    public var evalBatchSize = 32
    public var progress = true
    public init(modelDirectory: String, seeds: [Int], outputDirectory: String) {
        self.modelDirectory = modelDirectory; self.seeds = seeds; self.outputDirectory = outputDirectory
    }
}

extension TemplateSearchOptions: SearchRunOptions {}

public struct TemplateSearchResult: Codable, Sendable {
    public var seed: Int
    public var verbalizer: String
    public var candidates: [TemplateCandidate]
    public var chosen: TemplateCandidate
    public var patternFile: String
    public var seconds: Double
}

/// Automatic templates for a task, per seed: `TemplateSearch`'s beam over every shape with the task's
/// label words, the best templates by summed log-probability (optionally re-ranked by fine-tuning on
/// dev), written as a pattern file.
public struct TemplateSearchRun {
    public let task: TaskDescriptor
    public let options: TemplateSearchOptions
    public let vocabulary: any TokenVocabulary
    public var log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }

    public init(task: TaskDescriptor, options: TemplateSearchOptions, vocabulary: any TokenVocabulary) {
        self.task = task; self.options = options; self.vocabulary = vocabulary
    }

    public func run() throws -> [TemplateSearchResult] {
        try searchEverySeed(options.seeds, outputDirectory: options.outputDirectory) { try search(seed: $0) }
    }

    func search(seed: Int) throws -> TemplateSearchResult {
        let start = Date()
        let train = try task.loadSplit("train", seed: seed, dataRoot: options.dataRoot)
        let prompts = try task.loadPrompts(columns: train.columnNames)
        guard let first = prompts.first, let pattern = first.patterns.first else {
            throw PETError(.noPatterns, "the task has no pattern to take slots and label words from", at: SourceLocation(file: task.path))
        }
        let slots = pattern.slotNames.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let verbalizer = try first.verbalizer.resolve(labels: task.labels, vocabulary: vocabulary)
        let model = try ModelLoader.loadMaskedLM(directory: options.modelDirectory)
        let examples = try train.examples.map { e in
            TemplateSearch.Example(slots: try slots.enumerated().map { i, name in
                guard let text = e.fields[name] else { throw PETError(.missingField, "example has no column '\(name)'", at: e.location) }
                return Array(vocabulary.tokenIDs(i == 0 ? text : " " + text).prefix(options.slotLimit))
            }, labelWord: Int32(verbalizer.vocabularyRows[verbalizer.labelColumns[e.label!][0]]))
        }
        let (allowed, text) = templateTokens(size: model.config.vocabSize)
        var candidates: [TemplateCandidate] = []
        let shapes = (options.shapes ?? TemplateShape.defaults(slots: slots.count)).filter { $0.placement != .between || slots.count >= 2 }
        let bar = options.progress ? ProgressBar("template shapes seed \(seed)", total: shapes.count) : nil
        for (done, shape) in shapes.enumerated() {
            defer { bar?.update(done + 1) }
            candidates += try TemplateSearch.beamSearch(shape: shape, examples: examples, allowed: allowed, beam: options.beam,
                                                        layout: vocabulary.specialTokens, maskID: vocabulary.maskTokenID) {
                try logProbabilities(model, inputs: $0, positions: $1, allowed: allowed)
            }
        }
        // Compare shapes per template token: longer templates sum more (negative) log-probabilities.
        func perToken(_ c: TemplateCandidate) -> Double { c.score / Double(max(1, c.tokens.count)) }
        candidates.sort { perToken($0) != perToken($1) ? perToken($0) > perToken($1) : $0.tokens.lexicographicallyPrecedes($1.tokens) }
        var seen = Set<String>()
        candidates = candidates.compactMap { c in
            var c = c
            c.pattern = TemplateSearch.pattern(c, slots: slots, text: text)
            return seen.insert(c.pattern).inserted ? c : nil
        }
        candidates = Array(candidates.prefix(options.top))
        log("seed \(seed): best templates: " + candidates.prefix(5).map { "\($0.pattern) (\(String(format: "%.2f", perToken($0))))" }.joined(separator: " | "))
        return try finish(candidates, seed: seed, verbalizerFile: first.verbalizer.file, start: start)
    }

    /// Re-ranks (if asked), writes the pattern file (best first) and the result.
    func finish(_ found: [TemplateCandidate], seed: Int, verbalizerFile: String, start: Date) throws -> TemplateSearchResult {
        var candidates = found
        let dir = options.outputDirectory + "/seed-\(seed)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if options.rerank > 0 {
            let reranker = try SearchReranker(task: task, options: options, vocabulary: vocabulary)
            for i in 0..<min(options.rerank, candidates.count) {
                let file = dir + "/candidate-\(i + 1).txt"
                try (candidates[i].pattern + "\n").write(toFile: file, atomically: true, encoding: .utf8)
                candidates[i].devAccuracy = try reranker.devAccuracy(patternFile: file, verbalizerFile: verbalizerFile, seed: seed)
                log(String(format: "seed %d: template %d %@: dev accuracy %.4f", seed, i + 1, candidates[i].pattern, candidates[i].devAccuracy ?? 0))
            }
            let reranked = candidates.prefix(options.rerank).enumerated().sorted { a, b in
                a.element.devAccuracy! != b.element.devAccuracy! ? a.element.devAccuracy! > b.element.devAccuracy! : a.offset < b.offset
            }.map(\.element)
            candidates = reranked + candidates.dropFirst(options.rerank)
        }
        let file = options.outputDirectory + "/templates-seed-\(seed).txt"
        var lines = ["# Found by `cloze search templates` (LM-BFF automatic templates, filled by the masked LM) for task \(task.name),",
                     "# seed \(seed), label words \(verbalizerFile); best first" + (options.rerank > 0 ? " (the first \(options.rerank) re-ranked by dev accuracy)." : ".")]
        for c in candidates {
            lines.append(String(format: "# log-prob per token %.3f", c.score / Double(max(1, c.tokens.count)))
                         + (c.devAccuracy.map { String(format: ", dev accuracy %.4f", $0) } ?? ""))
            lines.append(c.pattern)
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        log("seed \(seed): chose \(candidates[0].pattern) -> \(file)")
        return TemplateSearchResult(seed: seed, verbalizer: verbalizerFile, candidates: candidates, chosen: candidates[0], patternFile: file,
                                    seconds: Date().timeIntervalSince(start))
    }

    /// Tokens a template may use (whole words and single punctuation marks) and their text.
    func templateTokens(size: Int) -> ([Int32], (Int32) -> String) {
        var words = LabelSearch.wordRows(vocabulary: vocabulary, size: size)
        for p in TemplateSearch.punctuation {
            let ids = vocabulary.tokenIDs(p)
            if ids.count == 1 { words[Int(ids[0])] = p }
        }
        let table = words
        return (table.keys.sorted().map { Int32($0) }, { table[Int($0)] ?? "" })
    }

    /// Log-probabilities over `allowed` at one position of each input (log-softmax over the whole vocabulary).
    func logProbabilities(_ model: TransformerMaskedLM, inputs: [[Int32]], positions: [Int], allowed: [Int32]) throws -> [[Float]] {
        var out: [[Float]] = []
        var noRNG: SeededRNG? = nil
        let V = model.config.vocabSize
        for start in stride(from: 0, to: inputs.count, by: options.evalBatchSize) {
            let idx = Array(start..<min(start + options.evalBatchSize, inputs.count))
            let batch = try EncodedBatch(sequences: idx.map { inputs[$0] }, padId: vocabulary.specialTokens.padID)
            let hidden = try model.encode(batch, training: false, rng: &noRNG, tape: nil)
            let logits = try model.mlmLogits(hidden: hidden, positions: idx.enumerated().map { $0.offset * batch.seqLen + positions[$0.element] },
                                             vocabularyRows: nil, tape: nil)
            var row = [Float](repeating: 0, count: V)
            for r in idx.indices {
                let lse: Float = row.withUnsafeMutableBufferPointer { dst in
                    logits.data.withUnsafeBufferPointer { src in
                        dst.baseAddress!.update(from: src.baseAddress! + r * V, count: V)
                        return Vectorized.softmaxInPlace(dst.baseAddress!, count: V)
                    }
                }
                out.append(allowed.map { logits.data[r * V + Int($0)] - lse })
            }
        }
        return out
    }
}
