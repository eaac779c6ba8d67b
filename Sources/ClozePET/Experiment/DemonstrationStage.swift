import ClozeModels
import Foundation

/// Candidate lists of one seed's queries for one pattern: training examples (never themselves), test
/// and pool examples.
struct DemonstrationCandidates {
    var train: [[Int]]
    var test: [[Int]]
    var pool: [[Int]]
}

extension PETExperiment {
    /// The demonstration settings of a pattern: `--demos` applies to all, `{demo}` to its own line.
    func demonstrationOptions(for pattern: Pattern) -> DemonstrationOptions? {
        if let o = options.demonstrations, o.allPatterns || pattern.demonstrations { return o }
        return pattern.demonstrations ? DemonstrationOptions() : nil
    }

    /// Max length of a pattern's inputs: twice the task's with demonstrations (LM-BFF's `--double_demo`),
    /// the model's longest (≤ 512) for GPT-3-style in-context inputs (LM-BFF takes the model's maximum).
    func maxLength(for pattern: Pattern) -> Int {
        guard let o = demonstrationOptions(for: pattern) else { return options.maxLength ?? task.maxLength ?? 128 }
        return maxLength(with: o)
    }

    /// Max length of inputs carrying demonstrations `o` (`--max-length` wins).
    func maxLength(with o: DemonstrationOptions) -> Int {
        options.maxLength ?? (o.inContext != nil ? longestModelInput : (task.maxLength ?? 128) * 2)
    }

    /// The model's longest input, at most 512 (RoBERTa / XLM-R spend two positions on the padding offset).
    var longestModelInput: Int {
        guard let c = try? ModelConfig.load(directory: options.modelDirectory) else { return 512 }
        let offset = [.roberta, .xlmRoberta].contains(c.architecture) ? c.padTokenId + 1 : 0
        return max(1, min(512, c.maxPositions - offset))
    }

    /// Builds the demonstration plan of one pattern and its train (one set each), test and pool
    /// (`samples` sets each, sample-major) inputs.
    func demonstrationFeatures(pattern: Pattern, builder: PETInputBuilder, verbalizer: ResolvedVerbalizer, index: Int,
                               data: SeedData, options o: DemonstrationOptions, state: RunState) throws
        -> (plan: DemonstrationPlan, train: [PETFeature], test: [PETFeature], pool: [PETFeature]) {
        guard !options.multiMask else {
            throw PETError(.notSupportedYet, "demonstrations need single-token label words; drop --multi-mask or --demos / {demo}", at: pattern.location)
        }
        let train = data.train.examples
        guard train.count >= 2 else {
            throw PETError(.emptyDataset, "demonstrations need at least two training examples (each query draws from the others)", at: pattern.location)
        }
        let words = verbalizer.labelColumns.map { [Int32(verbalizer.vocabularyRows[$0[0]])] }
        let pool = train.map { Demonstration(fields: $0.fields, labelTokens: words[$0.label!]) }
        let sampler = DemonstrationSampler(labels: train.map { $0.label! }, classCount: task.labels.count)
        let c = try demonstrationCandidates(pattern: pattern, sampler: sampler, data: data, options: o, state: state)
        let plan = DemonstrationPlan(builder: builder, limits: o.limits, pool: pool, trainExamples: train, sampler: sampler,
                                     trainCandidates: c.train, inContext: o.inContext)
        let seed = UInt64(data.seed) &* 7_368_787 &+ UInt64(index) &* 131
        return (plan, try plan.features(train, candidates: c.train, samples: 1, seed: seed),
                try plan.features(data.test.examples, candidates: c.test, samples: o.samples, seed: seed &+ 1),
                try plan.features(data.pool, candidates: c.pool, samples: o.samples, seed: seed &+ 2))
    }

    /// Every query's candidates; with a filter encoder, the most similar per class (embeddings of the
    /// pattern's slot texts, computed once per text and run).
    func demonstrationCandidates(pattern: Pattern, sampler: DemonstrationSampler, data: SeedData, options o: DemonstrationOptions,
                                 state: RunState) throws -> DemonstrationCandidates {
        let train = data.train.examples
        guard let dir = o.filterEncoder else {
            let all = sampler.candidates()
            return DemonstrationCandidates(train: train.indices.map { sampler.candidates(excluding: $0) },
                                           test: data.test.examples.map { _ in all }, pool: data.pool.map { _ in all })
        }
        let slots = pattern.slotNames.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        func text(_ e: Example) -> String { slots.compactMap { e.fields[$0] }.joined(separator: " ") }
        let support = try state.embeddings(train.map(text), encoder: dir, progress: bar)
        let d = state.sentenceEncoder!.dimension
        func filtered(_ queries: [Example], excludeSelf: Bool) throws -> [[Int]] {
            let q = try state.embeddings(queries.map(text), encoder: dir, progress: bar)
            return queries.indices.map { i in
                sampler.candidates(excluding: excludeSelf ? i : nil,
                                   similarity: DemonstrationSampler.cosine(query: i, of: q, pool: support, dimension: d), rate: o.filterRate)
            }
        }
        return DemonstrationCandidates(train: try filtered(train, excludeSelf: true), test: try filtered(data.test.examples, excludeSelf: false),
                                       pool: try filtered(data.pool, excludeSelf: false))
    }

    /// Label logits of `features` (`samples` sample-major sets) averaged over the sets.
    func predictAveraged(_ scorer: PETScorer, _ features: [PETFeature], samples: Int, progress label: String? = nil) throws -> [Float] {
        let logits = try scorer.predict(features, batchSize: options.evalBatchSize, padID: vocabulary.specialTokens.padID,
                                        progress: label.flatMap { bar($0, features.count) })
        return DemonstrationPlan.average(logits, samples: samples, columns: task.labels.count)
    }
}

extension RunState {
    /// Sentence embeddings of `texts` [n × dimension] from the encoder at `dir` (loaded once), each
    /// distinct text encoded once per run (the test set is shared by LM-BFF's seeds).
    func embeddings(_ texts: [String], encoder dir: String, progress: (String, Int) -> ((Int) -> Void)?) throws -> [Float] {
        if sentenceEncoder == nil {
            do { sentenceEncoder = try SentenceEncoder(directory: dir) } catch let e as ModelError {
                throw PETError(.fileNotFound, "--demo-filter encoder: \(e.description)", at: SourceLocation(file: dir))
            }
        }
        let encoder = sentenceEncoder!, d = encoder.dimension
        let missing = Array(Set(texts.filter { embeddingCache[$0] == nil })).sorted()
        if !missing.isEmpty {
            let flat = try timed("demonstration embeddings") { try encoder.embed(missing, progress: progress("embeddings", missing.count)) }
            for (i, t) in missing.enumerated() { embeddingCache[t] = Array(flat[(i * d)..<((i + 1) * d)]) }
        }
        return texts.flatMap { embeddingCache[$0]! }
    }
}
