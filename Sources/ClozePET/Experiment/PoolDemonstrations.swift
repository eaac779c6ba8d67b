import ClozeModels
import ClozeTensor
import Foundation

/// Demonstrations for labelling a pool with a pattern model trained with them: its saved pool (the
/// seed's training examples, with their label words), candidates per row (all of the pool, or with a
/// filter encoder the most similar per class), and `samples` sets per row whose logits are averaged,
/// as `cloze train` evaluates. Row r's sets are drawn from its own seed, so chunking and resuming give
/// the same inputs.
struct PoolDemonstrations {
    let saved: PatternModelCheckpoint.SavedDemonstrations
    let plan: DemonstrationPlan
    let encoder: SentenceEncoder?
    /// Filter embeddings of the pool examples [pool × dimension] (empty without a filter).
    let support: [Float]
    let slots: [String]

    init(saved: PatternModelCheckpoint.SavedDemonstrations, pattern: Pattern, verbalizer: ResolvedVerbalizer,
         vocabulary: any TokenVocabulary, location: SourceLocation) throws {
        var problems: [String] = []
        if saved.pool.isEmpty { problems.append("the pool is empty") }
        if let bad = saved.pool.first(where: { !verbalizer.labelColumns.indices.contains($0.label) }) {
            problems.append("pool label \(bad.label) is not a class of the verbalizer's \(verbalizer.labels.count)")
        }
        if !(1...1000).contains(saved.samples) { problems.append("samples \(saved.samples) must be in 1...1000") }
        if !(4...100_000).contains(saved.maxLength) { problems.append("maxLength \(saved.maxLength) must be in 4...100000") }
        if !(saved.filterRate > 0 && saved.filterRate <= 1) { problems.append("filterRate \(saved.filterRate) must be in (0, 1]") }
        if let n = saved.inContext, n < 1 { problems.append("inContext \(n) must be at least 1") }
        for (name, limit) in [("querySlotLimit", saved.querySlotLimit), ("demonstrationSlotLimit", saved.demonstrationSlotLimit)] {
            if let l = limit, l < 1 { problems.append("\(name) \(l) must be at least 1") }
        }
        guard problems.isEmpty else {
            throw PETError(.badTaskDescriptor, "saved demonstrations: " + problems.joined(separator: "; ") + " (re-save the pattern model with cloze train --save-pattern-models)", at: location)
        }
        self.saved = saved
        let words = verbalizer.labelColumns.map { [Int32(verbalizer.vocabularyRows[$0[0]])] }
        let examples = saved.pool.enumerated().map { i, e in
            Example(fields: e.fields, label: e.label, location: SourceLocation(file: location.file, line: i + 1))
        }
        let sampler = DemonstrationSampler(labels: examples.map { $0.label! }, classCount: verbalizer.labels.count)
        let builder = PETInputBuilder(pattern: pattern, vocabulary: vocabulary, maxLength: saved.maxLength)
        plan = DemonstrationPlan(builder: builder, limits: saved.options.limits,
                                 pool: examples.map { Demonstration(fields: $0.fields, labelTokens: words[$0.label!]) },
                                 trainExamples: examples, sampler: sampler, trainCandidates: [], inContext: saved.inContext)
        let slots = pattern.slotNames.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        self.slots = slots
        if let dir = saved.filterEncoder {
            do { encoder = try SentenceEncoder(directory: dir) } catch let e as ModelError {
                throw PETError(.fileNotFound, "this pattern model filters its demonstrations by similarity with the encoder at \(dir), which cannot be loaded (\(e.description)); put the encoder there", at: location)
            }
            support = try encoder!.embed(examples.map { Self.text($0, slots: slots) })
        } else {
            encoder = nil
            support = []
        }
    }

    /// The slot texts a filter encoder embeds (as `cloze train --demo-filter` does).
    static func text(_ e: Example, slots: [String]) -> String { slots.compactMap { e.fields[$0] }.joined(separator: " ") }

    var samples: Int { saved.samples }

    /// `samples` inputs per example of `chunk` (pool rows `firstRow...`), sample-major.
    func features(_ chunk: [Example], firstRow: Int) throws -> [PETFeature] {
        let candidates = try candidateLists(chunk)
        var out = [PETFeature?](repeating: nil, count: chunk.count * samples)
        for (j, e) in chunk.enumerated() {
            var rng = SeededRNG(seed: saved.seed &+ UInt64(firstRow + j) &* 0x9E37_79B9_7F4A_7C15)
            for s in 0..<samples { out[s * chunk.count + j] = try plan.feature(e, candidates: candidates[j], rng: &rng) }
        }
        return out.map { $0! }
    }

    func candidateLists(_ chunk: [Example]) throws -> [[Int]] {
        guard let encoder else { return chunk.map { _ in plan.sampler.candidates() } }
        let q = try encoder.embed(chunk.map { Self.text($0, slots: slots) })
        return chunk.indices.map { j in
            plan.sampler.candidates(similarity: DemonstrationSampler.cosine(query: j, of: q, pool: support, dimension: encoder.dimension),
                                    rate: saved.filterRate)
        }
    }
}
