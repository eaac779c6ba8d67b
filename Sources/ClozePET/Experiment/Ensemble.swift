/// Ensembles of pattern-model logits (row-major [examples, labels] arrays of equal length).
public enum Ensemble {
    /// The uniform mean (PET's `mean` reduction).
    public static func mean(_ logits: [[Float]]) -> [Float] {
        guard let first = logits.first else { return [] }
        var sum = [Float](repeating: 0, count: first.count)
        for l in logits { for i in sum.indices { sum[i] += l[i] } }
        let n = Float(logits.count)
        return sum.map { $0 / n }
    }

    /// PET's `wmean` (np.average with `weights`, the models' training-set accuracies before training).
    /// When every weight is 0 the reference divides by zero; here it falls back to the uniform mean.
    public static func weighted(_ logits: [[Float]], weights: [Float]) -> [Float] {
        guard let first = logits.first else { return [] }
        precondition(weights.count == logits.count, "one weight per model")
        let total = weights.reduce(0, +)
        guard total > 0 else { return mean(logits) }
        var sum = [Float](repeating: 0, count: first.count)
        for (l, w) in zip(logits, weights) { for i in sum.indices { sum[i] += w * l[i] } }
        return sum.map { $0 / total }
    }

    /// Row-wise softmax of [rows, cols] logits.
    public static func softmaxRows(_ logits: [Float], cols: Int) -> [Float] {
        var out = logits
        for r in stride(from: 0, to: logits.count, by: cols) {
            let row = logits[r..<(r + cols)]
            let m = row.max() ?? 0
            var s: Float = 0
            for c in 0..<cols { let e = (logits[r + c] - m).exp; out[r + c] = e; s += e }
            for c in 0..<cols { out[r + c] /= s }
        }
        return out
    }
}

private extension Float {
    var exp: Float { Float(Foundation.exp(Double(self))) }
}

import Foundation
