import ClozeTensor

/// Settings of LM-BFF demonstrations in an experiment (`cloze train --demos`).
public struct DemonstrationOptions: Sendable, Equatable {
    /// Demonstrations after every pattern (`--demos`); false: only after patterns ending in `{demo}`.
    public var allPatterns = true
    /// Demonstration sets per test / pool example whose label logits are averaged (LM-BFF `--num_sample`).
    public var samples = 16
    /// Sentence-transformers directory for similarity filtering (`--demo-filter`); nil: no filtering.
    public var filterEncoder: String?
    /// Share of the most similar candidates per class kept by filtering (LM-BFF `--demo_filter_rate`).
    public var filterRate = 0.5
    public var limits = DemonstrationLimits()
    /// GPT-3-style in-context learning (LM-BFF `--gpt3_in_context_head`): this many random training
    /// examples of any class before the query, the input cut from the head at the max length (512 by
    /// default); nil: LM-BFF's one demonstration per class after the query.
    public var inContext: Int?
    public init() {}
}

/// Demonstrations for one pattern of one seed: the pool (the seed's training examples, each with its
/// label word's tokens), the candidates of every query, and the input builder.
struct DemonstrationPlan {
    let builder: PETInputBuilder
    let limits: DemonstrationLimits
    let pool: [Demonstration]
    /// The training examples (the pool's source, in the same order).
    let trainExamples: [Example]
    let sampler: DemonstrationSampler
    /// Per training example, its candidates (never itself).
    let trainCandidates: [[Int]]
    /// GPT-3-style: demonstrations per input, drawn at random from all candidates (see DemonstrationOptions).
    let inContext: Int?

    /// One input of `example` with demonstrations drawn from `candidates`.
    func feature(_ example: Example, candidates: [Int], rng: inout SeededRNG) throws -> PETFeature {
        if let n = inContext {
            // LM-BFF: the first n of a random permutation of the candidates.
            var order = candidates
            FewShotSampler.shuffle(&order, &rng)
            let demos = order.prefix(n).map { pool[$0] }
            return PETFeature(input: try builder.buildInContext(example.fields, demonstrations: demos, location: example.location),
                              label: example.label)
        }
        let demos = sampler.draw(from: candidates, rng: &rng).map { pool[$0] }
        return PETFeature(input: try builder.build(example.fields, demonstrations: demos, limits: limits, location: example.location),
                          label: example.label)
    }

    /// `samples` inputs per example, sample-major (feature s·n + i is example i's sample s), drawn with `seed`.
    func features(_ examples: [Example], candidates: [[Int]], samples: Int, seed: UInt64) throws -> [PETFeature] {
        var rng = SeededRNG(seed: seed)
        var out: [PETFeature] = []
        out.reserveCapacity(examples.count * samples)
        for _ in 0..<samples {
            for (i, e) in examples.enumerated() { out.append(try feature(e, candidates: candidates[i], rng: &rng)) }
        }
        return out
    }

    /// A fresh demonstration set for training example `i` (LM-BFF resamples on every `__getitem__`).
    func trainingFeature(_ i: Int, rng: inout SeededRNG) throws -> PETFeature {
        try feature(trainExamples[i], candidates: trainCandidates[i], rng: &rng)
    }

    /// Label logits of `samples` sample-major sets [samples·n × columns] averaged to [n × columns]
    /// (LM-BFF averages the logits over its `num_sample` sets).
    static func average(_ logits: [Float], samples: Int, columns: Int) -> [Float] {
        guard samples > 1 else { return logits }
        let n = logits.count / (samples * columns)
        var out = [Float](repeating: 0, count: n * columns)
        logits.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for s in 0..<samples { Vectorized.addInPlace(dst.baseAddress!, src.baseAddress! + s * n * columns, count: n * columns) }
                Vectorized.scale(dst.baseAddress!, dst.baseAddress!, by: 1 / Float(samples), count: n * columns)
            }
        }
        return out
    }
}
