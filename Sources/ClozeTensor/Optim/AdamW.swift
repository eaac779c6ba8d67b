import RealModule

/// torch.optim.AdamW: for each parameter with a gradient (frozen or gradient-less ones are skipped
/// and their step count does not advance),
///   p ← p·(1 - lr·wd)                         (decoupled weight decay, before the update; wd = 0 for noDecay)
///   m ← β1·m + (1-β1)·g,  v ← β2·v + (1-β2)·g²
///   p ← p - (lr / (1-β1^t)) · m / (√v / √(1-β2^t) + eps)
public final class AdamW {
    public let parameters: [Tensor]
    public var learningRate: Float
    public let beta1: Float, beta2: Float, eps: Float, weightDecay: Float
    public let noDecay: Set<ObjectIdentifier>
    private var m: [[Float]], v: [[Float]], steps: [Int]

    public init(parameters: [Tensor], learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999,
                eps: Float = 1e-8, weightDecay: Float = 0.01, noDecay: Set<ObjectIdentifier> = []) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay
        self.noDecay = noDecay
        m = parameters.map { _ in [] }; v = parameters.map { _ in [] }
        steps = [Int](repeating: 0, count: parameters.count)
    }

    /// Number of updates applied to parameter `index` so far.
    public func stepCount(of index: Int) -> Int { steps[index] }

    public func step() {
        for (idx, p) in parameters.enumerated() where p.requiresGrad && p.grad != nil {
            let n = p.count
            if m[idx].isEmpty { m[idx] = [Float](repeating: 0, count: n); v[idx] = [Float](repeating: 0, count: n) }
            steps[idx] += 1
            let t = Float(steps[idx])
            let wd = noDecay.contains(ObjectIdentifier(p)) ? 0 : weightDecay
            let decay = 1 - learningRate * wd
            let stepSize = learningRate / (1 - Float.pow(beta1, t))
            let invSqrtBC2 = 1 / Float.sqrt(1 - Float.pow(beta2, t))
            let b1 = beta1, b2 = beta2, e = eps
            p.grad!.withUnsafeBufferPointer { gB in
                p.data.withUnsafeMutableBufferPointer { pB in
                    m[idx].withUnsafeMutableBufferPointer { mB in
                        v[idx].withUnsafeMutableBufferPointer { vB in
                            let pp = pB.baseAddress!, pg = gB.baseAddress!, pm = mB.baseAddress!, pv = vB.baseAddress!
                            Parallel.chunks(n, grain: 32768) { r in  // elementwise: same result for any split
                                let o = r.lowerBound
                                Self.update(pp + o, pg + o, pm + o, pv + o, r.count, decay: decay, b1: b1, b2: b2,
                                            stepSize: stepSize, invSqrtBC2: invSqrtBC2, eps: e)
                            }
                        }
                    }
                }
            }
        }
    }

    public func zeroGrad() { for p in parameters { p.zeroGrad() } }

    @inline(__always)
    private static func update(_ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                               _ v: UnsafeMutablePointer<Float>, _ n: Int, decay: Float, b1: Float, b2: Float,
                               stepSize: Float, invSqrtBC2: Float, eps: Float) {
        typealias V = Vectorized.V
        var i = 0
        while i + 16 <= n {
            let gi = Vectorized.load(g + i)
            let mi = Vectorized.load(m + i) * b1 + gi * (1 - b1)
            let vi = Vectorized.load(v + i) * b2 + gi * gi * (1 - b2)
            Vectorized.store(mi, m + i); Vectorized.store(vi, v + i)
            let denom = vi.squareRoot() * invSqrtBC2 + eps
            Vectorized.store(Vectorized.load(p + i) * decay - stepSize * mi / denom, p + i)
            i += 16
        }
        while i < n {
            let gi = g[i]
            m[i] = m[i] * b1 + gi * (1 - b1)
            v[i] = v[i] * b2 + gi * gi * (1 - b2)
            p[i] = p[i] * decay - stepSize * m[i] / (v[i].squareRoot() * invSqrtBC2 + eps)
            i += 1
        }
    }
}
