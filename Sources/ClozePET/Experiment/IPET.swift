import ClozeTensor
import Foundation

/// iPET settings (Schick & Schütze 2021; timoschick/pet `--method ipet`, same names and defaults).
public struct IPETOptions: Sendable {
    /// Generations of pattern models, the first included (`--ipet_generations`).
    public var generations = 3
    /// The labelled set grows by this factor each generation (`--ipet_scale_factor`).
    public var scaleFactor: Double = 5
    /// Fraction of the other models whose ensemble labels a model's next training set (`--ipet_logits_percentage`).
    public var logitsPercentage: Double = 0.25
    /// First generation only: draw from the n most likely pool examples per label (`--ipet_n_most_likely`;
    /// ≤ 0: from every example the ensemble assigns to the label). Meant for zero-shot iPET.
    public var nMostLikely = -1
    public init() {}
}

/// iPET's pseudo-labelling (reference: `generate_ipet_train_sets` / `generate_ipet_train_set`).
public enum IPETSampling {
    /// New examples for the training sets of generation `generation + 1`:
    /// int(original · d^(generation+1) − |T|), where original is |T|, or 10/d when T is empty (zero-shot).
    public static func newExampleCount(trainCount: Int, generation: Int, scaleFactor d: Double) -> Int {
        let original = trainCount > 0 ? Double(trainCount) : 10 / d
        return max(0, Int(original * pow(d, Double(generation + 1)) - Double(trainCount)))
    }

    /// Per label, how many new examples to draw: T's label distribution scaled up (int(count · new/|T|)),
    /// or an equal split (the reference's eq_div) when T is empty.
    public static func examplesPerLabel(trainLabels: [Int], labelCount: Int, newExamples: Int) -> [Int] {
        if trainLabels.isEmpty {
            guard labelCount > 0 else { return [] }
            let q = newExamples / labelCount, r = newExamples % labelCount
            return (0..<labelCount).map { $0 < r ? q + 1 : q }
        }
        let multiplier = Double(newExamples) / Double(trainLabels.count)
        return (0..<labelCount).map { l in Int(Double(trainLabels.filter { $0 == l }.count) * multiplier) }
    }

    /// The pseudo-labelled set of one model: pool indices and their labels.
    public struct Draw: Sendable, Equatable {
        public var indices: [Int]
        public var labels: [Int]
        /// Labels the ensemble assigned to no pool example: drawn from the examples most likely under them instead.
        public var emptyLabels: [Int]
    }

    /// Labels the pool with the ensemble of a random `logitsPercentage` fraction of `others` (at least
    /// one; weighted by their weights, uniform when those are all 0), then per label draws
    /// `examplesPerLabel[l]` examples without replacement with probability ∝ the ensemble's confidence.
    public static func draw(others: [(logits: [Float], weight: Float)], labelCount L: Int, examplesPerLabel: [Int],
                            logitsPercentage: Double, nMostLikely: Int, rng: inout SeededRNG) -> Draw {
        var chosen = others
        FewShotSampler.shuffle(&chosen, &rng)
        chosen = Array(chosen.prefix(labellerCount(others: others.count, logitsPercentage: logitsPercentage)))
        let (probs, predicted) = labelDistribution(chosen, labelCount: L)
        var out = Draw(indices: [], labels: [], emptyLabels: [])
        for label in 0..<L where examplesPerLabel[label] > 0 {
            let (candidates, empty) = candidates(label: label, probs: probs, predicted: predicted, labelCount: L,
                                                 count: examplesPerLabel[label], nMostLikely: nMostLikely)
            if empty { out.emptyLabels.append(label) }
            guard !candidates.isEmpty else { continue }
            // Too few: repeat the list (the reference's upsampling), then draw without replacement.
            var pool = candidates
            while pool.count < examplesPerLabel[label] { pool += candidates }
            for k in weightedDrawWithoutReplacement(pool.map(\.confidence), count: examplesPerLabel[label], rng: &rng) {
                out.indices.append(pool[k].index); out.labels.append(label)
            }
        }
        return out
    }

    /// How many of the other models label a set: round(others · percentage) with Python's round (half to
    /// even, as the reference), but at least one (the reference's ensemble of zero models divides by zero).
    static func labellerCount(others: Int, logitsPercentage: Double) -> Int {
        max(Int((Double(others) * logitsPercentage).rounded(.toNearestOrEven)), 1)
    }

    /// The ensemble's softmax per pool example (row-major, `labelCount` columns) and its argmax (first on ties).
    static func labelDistribution(_ chosen: [(logits: [Float], weight: Float)], labelCount L: Int) -> (probs: [Float], predicted: [Int]) {
        let probs = Ensemble.softmaxRows(Ensemble.weighted(chosen.map(\.logits), weights: chosen.map(\.weight)), cols: L)
        let n = probs.count / max(L, 1)
        let predicted = (0..<n).map { i in
            (0..<L).max { probs[i * L + $0] < probs[i * L + $1] || (probs[i * L + $0] == probs[i * L + $1] && $0 > $1) }!
        }
        return (probs, predicted)
    }

    /// The examples a label's draw chooses from, with their confidence: the `nMostLikely` most likely under
    /// the label, or every example predicted as it. `empty`: none is predicted as it, so the `count` most
    /// likely are used instead (the reference loops forever there).
    static func candidates(label: Int, probs: [Float], predicted: [Int], labelCount L: Int, count: Int,
                           nMostLikely: Int) -> (candidates: [(index: Int, confidence: Float)], empty: Bool) {
        if nMostLikely > 0 { return (mostLikely(probs, label: label, labelCount: L, count: nMostLikely), false) }
        let predictedAsLabel = predicted.indices.filter { predicted[$0] == label }.map { ($0, probs[$0 * L + label]) }
        if !predictedAsLabel.isEmpty { return (predictedAsLabel, false) }
        return (mostLikely(probs, label: label, labelCount: L, count: count), true)
    }

    /// The `count` examples with the highest probability of `label` (ties: the later example first, as
    /// the reference's descending sort of (score, index) pairs), with that probability as confidence.
    static func mostLikely(_ probs: [Float], label: Int, labelCount L: Int, count: Int) -> [(index: Int, confidence: Float)] {
        let n = probs.count / max(L, 1)
        let ranked = (0..<n).sorted { a, b in
            let pa = probs[a * L + label], pb = probs[b * L + label]
            return pa != pb ? pa > pb : a > b
        }
        return ranked.prefix(count).map { ($0, probs[$0 * L + label]) }
    }

    /// `count` distinct positions of `weights`, each draw ∝ the weights left (numpy's choice with
    /// replace=False draws from the same distribution).
    static func weightedDrawWithoutReplacement(_ weights: [Float], count: Int, rng: inout SeededRNG) -> [Int] {
        var w = weights.map { Double(max($0, 0)) }
        var picked: [Int] = []
        for _ in 0..<min(count, w.count) {
            let total = w.reduce(0, +)
            var k: Int
            if total > 0 {
                var x = Double(rng.nextUniform()) * total
                k = w.count - 1
                for (i, wi) in w.enumerated() where wi > 0 {
                    if x < wi { k = i; break }
                    x -= wi
                }
                while w[k] == 0 { k -= 1 }  // rounding at the end: the last positive weight
            } else {
                k = w.indices.first { !picked.contains($0) }!
            }
            picked.append(k)
            w[k] = 0
        }
        return picked
    }
}
