import Foundation

/// Evaluation metrics (sklearn / scipy / numpy definitions; checked against them in the tests).
public enum Metrics {
    public static func accuracy(predictions: [Int], gold: [Int]) -> Double {
        guard !gold.isEmpty else { return 0 }
        return Double(zip(predictions, gold).filter { $0 == $1 }.count) / Double(gold.count)
    }

    /// F1 of one class (sklearn `f1_score(average='binary', pos_label=positive)`; 0 when undefined).
    public static func f1(predictions: [Int], gold: [Int], positive: Int) -> Double {
        var tp = 0, fp = 0, fn = 0
        for (p, g) in zip(predictions, gold) {
            if p == positive && g == positive { tp += 1 } else if p == positive { fp += 1 } else if g == positive { fn += 1 }
        }
        let denom = 2 * tp + fp + fn
        return denom == 0 ? 0 : Double(2 * tp) / Double(denom)
    }

    /// Unweighted mean of per-class F1 over `classes` classes (sklearn `average='macro'` with
    /// `labels=range(classes)`, zero_division=0).
    public static func macroF1(predictions: [Int], gold: [Int], classes: Int) -> Double {
        guard classes > 0 else { return 0 }
        return (0..<classes).reduce(0) { $0 + f1(predictions: predictions, gold: gold, positive: $1) } / Double(classes)
    }

    /// Matthews correlation coefficient, multi-class form (sklearn `matthews_corrcoef`).
    public static func mcc(predictions: [Int], gold: [Int], classes: Int) -> Double {
        var cm = [[Double]](repeating: [Double](repeating: 0, count: classes), count: classes)
        for (p, g) in zip(predictions, gold) { cm[g][p] += 1 }
        let t = (0..<classes).map { k in cm[k].reduce(0, +) }          // true counts per class
        let pr = (0..<classes).map { k in cm.reduce(0) { $0 + $1[k] } } // predicted counts
        let c = (0..<classes).reduce(0.0) { $0 + cm[$1][$1] }
        let s = Double(gold.count)
        let cov = c * s - zip(t, pr).reduce(0) { $0 + $1.0 * $1.1 }
        let a = s * s - pr.reduce(0) { $0 + $1 * $1 }
        let b = s * s - t.reduce(0) { $0 + $1 * $1 }
        return a * b == 0 ? 0 : cov / (a * b).squareRoot()
    }

    public static func pearson(_ x: [Double], _ y: [Double]) -> Double {
        let n = Double(x.count)
        guard x.count > 1 else { return 0 }
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(x, y) { sxy += (a - mx) * (b - my); sxx += (a - mx) * (a - mx); syy += (b - my) * (b - my) }
        return sxx * syy == 0 ? 0 : sxy / (sxx * syy).squareRoot()
    }

    /// Expected label value per row: softmax of the row's logits weighted by each label's numeric value
    /// (LM-BFF's regression-by-interpolation, used for Pearson on ordinal labels such as 0..4 stars).
    public static func expectedValues(_ logits: [Float], values: [Double]) -> [Double] {
        let cols = values.count
        return stride(from: 0, to: logits.count, by: cols).map { start in
            let row = logits[start..<start + cols]
            let m = row.max() ?? 0
            let e = row.map { Double(Foundation.exp($0 - m)) }
            let z = e.reduce(0, +)
            return zip(e, values).reduce(0) { $0 + $1.0 * $1.1 } / z
        }
    }

    /// Spearman's rho: Pearson of average ranks (ties share their mean rank, scipy `spearmanr`).
    public static func spearman(_ x: [Double], _ y: [Double]) -> Double { pearson(ranks(x), ranks(y)) }

    static func ranks(_ v: [Double]) -> [Double] {
        let order = v.indices.sorted { v[$0] < v[$1] }
        var r = [Double](repeating: 0, count: v.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && v[order[j + 1]] == v[order[i]] { j += 1 }
            let mean = Double(i + j) / 2 + 1
            for k in i...j { r[order[k]] = mean }
            i = j + 1
        }
        return r
    }

    /// Mean and population standard deviation (numpy `np.std`, ddof=0), as LM-BFF reports over seeds.
    public static func meanStd(_ v: [Double]) -> (mean: Double, std: Double) {
        guard !v.isEmpty else { return (0, 0) }
        let m = v.reduce(0, +) / Double(v.count)
        let varc = v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count)
        return (m, varc.squareRoot())
    }

    /// Argmax per row of a [rows, cols] row-major matrix (first maximum wins, like numpy/torch).
    public static func argmaxRows(_ x: [Float], cols: Int) -> [Int] {
        guard cols > 0 else { return [] }
        return stride(from: 0, to: x.count, by: cols).map { start in
            var best = start
            for i in start..<(start + cols) where x[i] > x[best] { best = i }
            return best - start
        }
    }
}
