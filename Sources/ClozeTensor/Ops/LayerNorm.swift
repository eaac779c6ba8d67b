import RealModule

extension Ops {
    /// Row-wise layer norm over the last dim H (PyTorch semantics: biased variance, eps inside the sqrt):
    /// y = (x - mean) / sqrt(var + eps) · gamma + beta. Saves mean and 1/std per row for backward.
    public static func layerNorm(_ x: Tensor, gamma: Tensor, beta: Tensor, eps: Float, tape: Tape?) -> Tensor {
        let h = x.lastDim, n = x.rows
        precondition(gamma.count == h && beta.count == h,
                     "layerNorm: gamma \(gamma.name ?? "") \(gamma.shape) / beta \(beta.shape) do not match input \(x.shape)")
        let record = recording(tape, x, gamma, beta)
        var means = [Float](repeating: 0, count: record ? n : 0)
        var rstds = [Float](repeating: 0, count: record ? n : 0)
        let y = x.withData { px in gamma.withData { pg in beta.withData { pb in
            makeArray(n * h) { py in
                for r in 0..<n {
                    let xr = px + r * h, yr = py + r * h
                    let mean = Vectorized.sum(xr, count: h) / Float(h)
                    let mv = Vectorized.V(repeating: mean)
                    var acc = Vectorized.V(), i = 0
                    while i + 16 <= h { let d = Vectorized.load(xr + i) - mv; acc += d * d; i += 16 }
                    var v = acc.sum()
                    while i < h { let d = xr[i] - mean; v += d * d; i += 1 }
                    let rstd = 1 / Float.sqrt(v / Float(h) + eps)
                    if record { means[r] = mean; rstds[r] = rstd }
                    let rv = Vectorized.V(repeating: rstd)
                    i = 0
                    while i + 16 <= h {
                        let xh = (Vectorized.load(xr + i) - mv) * rv
                        Vectorized.store(xh * Vectorized.load(pg + i) + Vectorized.load(pb + i), yr + i); i += 16
                    }
                    while i < h { yr[i] = (xr[i] - mean) * rstd * pg[i] + pb[i]; i += 1 }
                }
            }
        } } }
        let out = Tensor(shape: x.shape, data: y, requiresGrad: record)
        if record {
            tape!.record {
                out.grad.withPointer { dy in
                    layerNormBackward(x: x, gamma: gamma, beta: beta, dy: dy, means: means, rstds: rstds, n: n, h: h)
                }
            }
        }
        return out
    }

    /// xhat = (x - mean)·rstd; dgamma += Σ dy·xhat; dbeta += Σ dy;
    /// dx = rstd · (dy·g - mean(dy·g) - xhat · mean(dy·g·xhat)).
    private static func layerNormBackward(x: Tensor, gamma: Tensor, beta: Tensor, dy: UnsafePointer<Float>,
                                          means: [Float], rstds: [Float], n: Int, h: Int) {
        var xhat = [Float](repeating: 0, count: h), dyg = [Float](repeating: 0, count: h)
        x.withData { px in gamma.withData { pg in
            xhat.withUnsafeMutableBufferPointer { xhB in dyg.withUnsafeMutableBufferPointer { dygB in
                let xh = xhB.baseAddress!, dg = dygB.baseAddress!
                for r in 0..<n {
                    let xr = px + r * h, dyr = dy + r * h
                    let mv = Vectorized.V(repeating: means[r]), rv = Vectorized.V(repeating: rstds[r])
                    var i = 0
                    while i + 16 <= h { Vectorized.store((Vectorized.load(xr + i) - mv) * rv, xh + i); i += 16 }
                    while i < h { xh[i] = (xr[i] - means[r]) * rstds[r]; i += 1 }
                    if gamma.requiresGrad { gamma.withGrad { Vectorized.addMul($0, dyr, xh, count: h) } }
                    if beta.requiresGrad { beta.withGrad { Vectorized.addInPlace($0, dyr, count: h) } }
                    guard x.requiresGrad else { continue }
                    Vectorized.mul(dg, dyr, pg, count: h)
                    let meanDg = Vectorized.sum(dg, count: h) / Float(h)
                    let meanDgX = Vectorized.dot(dg, xh, count: h) / Float(h)
                    x.withGrad { dx in
                        let dxr = dx + r * h
                        let a = Vectorized.V(repeating: meanDg), b = Vectorized.V(repeating: meanDgX)
                        i = 0
                        while i + 16 <= h {
                            let d = (Vectorized.load(dg + i) - a - Vectorized.load(xh + i) * b) * rv
                            Vectorized.store(Vectorized.load(dxr + i) + d, dxr + i); i += 16
                        }
                        while i < h { dxr[i] += (dg[i] - meanDg - xh[i] * meanDgX) * rstds[r]; i += 1 }
                    }
                }
            } }
        } }
    }
}
