import ClozeTensor

/// scikit-learn's default `LogisticRegression()` (L2, C = 1, intercept unpenalised): minimises
/// ½‖W‖² + C Σᵢ −log p(yᵢ | xᵢ). Two classes: one weight vector (class 0's logit fixed at 0), as
/// sklearn's binary model; more: multinomial softmax. Solved by full-batch gradient descent with
/// Nesterov momentum: the problem is small (K-shot × embedding width) and strongly convex.
public struct LogisticRegression: Sendable {
    /// [classes, dimension] row-major (row 0 stays zero for two classes).
    public var weights: [Float]
    public var bias: [Float]
    public let classes: Int
    public let dimension: Int

    public static func fit(_ x: [Float], labels: [Int], classes K: Int, dimension d: Int, c: Double = 1,
                           iterations: Int = 5000) -> LogisticRegression {
        let n = labels.count
        var model = LogisticRegression(weights: [Float](repeating: 0, count: K * d), bias: [Float](repeating: 0, count: K), classes: K, dimension: d)
        // Lipschitz bound of the gradient: C · n · max‖x‖² / 2 + 1 (the penalty's curvature).
        let maxNorm = (0..<n).map { i in x.withUnsafeBufferPointer { Double(Vectorized.dot($0.baseAddress! + i * d, $0.baseAddress! + i * d, count: d)) } }.max() ?? 1
        let step = Float(1 / (c * Double(n) * (maxNorm + 1) / 2 + 1))
        var velocityW = [Float](repeating: 0, count: K * d), velocityB = [Float](repeating: 0, count: K)
        var t = 0
        while t < iterations {
            // Nesterov: gradient at the look-ahead point.
            var look = model
            for i in look.weights.indices { look.weights[i] += 0.9 * velocityW[i] }
            for i in look.bias.indices { look.bias[i] += 0.9 * velocityB[i] }
            let (gw, gb) = look.gradient(x, labels: labels, c: Float(c))
            var change: Float = 0
            for i in model.weights.indices {
                velocityW[i] = 0.9 * velocityW[i] - step * gw[i]
                model.weights[i] += velocityW[i]
                change = max(change, abs(velocityW[i]))
            }
            for i in model.bias.indices {
                velocityB[i] = 0.9 * velocityB[i] - step * gb[i]
                model.bias[i] += velocityB[i]
                change = max(change, abs(velocityB[i]))
            }
            t += 1
            if change < 1e-7 { break }
        }
        return model
    }

    /// Class scores [n, classes] of rows `x`.
    public func logits(_ x: [Float]) -> [Float] {
        let n = x.count / dimension
        var out = [Float](repeating: 0, count: n * classes)
        x.withUnsafeBufferPointer { px in
            weights.withUnsafeBufferPointer { pw in
                for i in 0..<n {
                    for k in 0..<classes {
                        out[i * classes + k] = Vectorized.dot(px.baseAddress! + i * dimension, pw.baseAddress! + k * dimension, count: dimension) + bias[k]
                    }
                }
            }
        }
        return out
    }

    /// Gradient of ½‖W‖² + C Σ CE: W + C Σᵢ (pᵢ − onehotᵢ) xᵢᵀ, and C Σᵢ (pᵢ − onehotᵢ) for the bias.
    func gradient(_ x: [Float], labels: [Int], c: Float) -> ([Float], [Float]) {
        var gw = weights, gb = [Float](repeating: 0, count: classes)
        var z = logits(x)
        let n = labels.count
        z.withUnsafeMutableBufferPointer { pz in
            for i in 0..<n { Vectorized.softmaxInPlace(pz.baseAddress! + i * classes, count: classes) }
        }
        x.withUnsafeBufferPointer { px in
            gw.withUnsafeMutableBufferPointer { g in
                for i in 0..<n {
                    for k in 0..<classes {
                        let r = c * (z[i * classes + k] - (labels[i] == k ? 1 : 0))
                        gb[k] += r
                        Vectorized.addScaled(g.baseAddress! + k * dimension, px.baseAddress! + i * dimension, r, count: dimension)
                    }
                }
            }
        }
        if classes == 2 {
            // Binary model: class 0's row and bias are the fixed reference.
            for j in 0..<dimension { gw[j] = 0 }
            gb[0] = 0
        }
        return (gw, gb)
    }
}
