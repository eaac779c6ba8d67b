import RealModule

extension Ops {
    /// Row-wise layer norm over the last dim H (PyTorch semantics: biased variance, eps inside the sqrt):
    /// y = (x - mean) / sqrt(var + eps) · gamma + beta. Saves mean and 1/std per row for backward.
    /// Rows are split over `Parallel` workers.
    public static func layerNorm(_ x: Tensor, gamma: Tensor, beta: Tensor, eps: Float, tape: Tape?) -> Tensor {
        let h = x.lastDim, n = x.rows
        require(gamma.count == h && beta.count == h,
                     "layerNorm: gamma \(gamma.name ?? "") \(gamma.shape) / beta \(beta.shape) do not match input \(x.shape)")
        let record = recording(tape, x, gamma, beta)
        var means = [Float](repeating: 0, count: record ? n : 0)
        var rstds = [Float](repeating: 0, count: record ? n : 0)
        let y = x.withData { px in gamma.withData { pg in beta.withData { pb in
            means.withUnsafeMutableBufferPointer { meanB in rstds.withUnsafeMutableBufferPointer { rstdB in
                makeArray(n * h) { py in
                    Parallel.chunks(n, grain: rowGrain(h), align: 1) { rows in
                        for r in rows {
                            let xr = px + r * h, yr = py + r * h
                            let mean = Vectorized.sum(xr, count: h) / Float(h)
                            let mv = Vectorized.V(repeating: mean)
                            var acc = Vectorized.V(), i = 0
                            while i + 16 <= h { let d = Vectorized.load(xr + i) - mv; acc += d * d; i += 16 }
                            var v = acc.sum()
                            while i < h { let d = xr[i] - mean; v += d * d; i += 1 }
                            let rstd = 1 / Float.sqrt(v / Float(h) + eps)
                            if record { meanB[r] = mean; rstdB[r] = rstd }
                            let rv = Vectorized.V(repeating: rstd)
                            i = 0
                            while i + 16 <= h {
                                let xh = (Vectorized.load(xr + i) - mv) * rv
                                Vectorized.store(xh * Vectorized.load(pg + i) + Vectorized.load(pb + i), yr + i); i += 16
                            }
                            while i < h { yr[i] = (xr[i] - mean) * rstd * pg[i] + pb[i]; i += 1 }
                        }
                    }
                }
            } }
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

    /// Rows per worker below which splitting a row kernel of width h does not pay (~16k values).
    static func rowGrain(_ h: Int) -> Int { Swift.max(1, 16384 / Swift.max(h, 1)) }

    /// xhat = (x - mean)·rstd; dgamma += Σ dy·xhat; dbeta += Σ dy;
    /// dx = rstd · (dy·g - mean(dy·g) - xhat · mean(dy·g·xhat)).
    /// dx is split by rows; dgamma/dbeta by columns, each column summed over the rows in order
    /// (so the sums do not depend on the thread count).
    private static func layerNormBackward(x: Tensor, gamma: Tensor, beta: Tensor, dy: UnsafePointer<Float>,
                                          means: [Float], rstds: [Float], n: Int, h: Int) {
        x.withData { px in gamma.withData { pg in means.withUnsafeBufferPointer { meanB in rstds.withUnsafeBufferPointer { rstdB in
            if gamma.requiresGrad || beta.requiresGrad {
                let dgamma: UnsafeMutablePointer<Float>? = gamma.requiresGrad ? gamma.withGrad { $0 } : nil
                let dbeta: UnsafeMutablePointer<Float>? = beta.requiresGrad ? beta.withGrad { $0 } : nil
                // Grad buffers stay alive (owned by the tensors) while the workers write into them.
                Parallel.chunks(h, grain: 64, align: 16) { cols in
                    let c0 = cols.lowerBound, w = cols.count
                    for r in 0..<n {
                        let xr = px + r * h + c0, dyr = dy + r * h + c0
                        let mv = Vectorized.V(repeating: meanB[r]), rv = Vectorized.V(repeating: rstdB[r])
                        var i = 0
                        if let dg = dgamma.map({ $0 + c0 }) {
                            while i + 16 <= w {
                                let xh = (Vectorized.load(xr + i) - mv) * rv
                                Vectorized.store(Vectorized.load(dg + i) + Vectorized.load(dyr + i) * xh, dg + i); i += 16
                            }
                            while i < w { dg[i] += dyr[i] * ((xr[i] - meanB[r]) * rstdB[r]); i += 1 }
                        }
                        if let db = dbeta.map({ $0 + c0 }) { Vectorized.addInPlace(db, dyr, count: w) }
                    }
                }
            }
            guard x.requiresGrad else { return }
            x.withGrad { dx in
                Parallel.chunks(n, grain: rowGrain(h), align: 1) { rows in
                    var xhat = [Float](repeating: 0, count: h), dyg = [Float](repeating: 0, count: h)
                    xhat.withUnsafeMutableBufferPointer { xhB in dyg.withUnsafeMutableBufferPointer { dygB in
                        let xh = xhB.baseAddress!, dg = dygB.baseAddress!
                        for r in rows {
                            let xr = px + r * h, dyr = dy + r * h
                            let mean = meanB[r], rstd = rstdB[r]
                            let mv = Vectorized.V(repeating: mean), rv = Vectorized.V(repeating: rstd)
                            var i = 0
                            while i + 16 <= h { Vectorized.store((Vectorized.load(xr + i) - mv) * rv, xh + i); i += 16 }
                            while i < h { xh[i] = (xr[i] - mean) * rstd; i += 1 }
                            Vectorized.mul(dg, dyr, pg, count: h)
                            let meanDg = Vectorized.sum(dg, count: h) / Float(h)
                            let meanDgX = Vectorized.dot(dg, xh, count: h) / Float(h)
                            let dxr = dx + r * h
                            let a = Vectorized.V(repeating: meanDg), b = Vectorized.V(repeating: meanDgX)
                            i = 0
                            while i + 16 <= h {
                                let d = (Vectorized.load(dg + i) - a - Vectorized.load(xh + i) * b) * rv
                                Vectorized.store(Vectorized.load(dxr + i) + d, dxr + i); i += 16
                            }
                            while i < h { dxr[i] += (dg[i] - meanDg - xh[i] * meanDgX) * rstd; i += 1 }
                        }
                    } }
                }
            }
        } } } }
    }
}
