extension Ops {
    /// y[r, c] = x[r, c]·s[c] / d[c] + shift[c], with x [.., C], s and shift [C] tensors (both get
    /// gradients), d a constant [C] (nil = 1). (IA)³ and DoRA scale a layer's outputs or inputs by a
    /// learned vector; DoRA's divisor is the detached weight norm.
    /// Backward: dx[r, c] += dy·s/d, ds[c] += Σ_r dy·x / d, dshift[c] += Σ_r dy.
    public static func scaleColumns(_ x: Tensor, by s: Tensor, dividedBy d: [Float]? = nil, plus shift: Tensor? = nil,
                                    tape: Tape?) -> Tensor {
        let c = x.lastDim, rows = x.rows
        require(s.count == c, "scaleColumns: scale \(s.name ?? "") \(s.shape) needs \(c) values for input \(x.shape)")
        require(d == nil || d!.count == c, "scaleColumns: divisor needs \(c) values")
        if let shift { require(shift.count == c, "scaleColumns: shift \(shift.name ?? "") \(shift.shape) needs \(c) values") }
        let factor = d.map { zip(s.data, $0).map { $0 / $1 } } ?? s.data
        let y = x.withData { px in factor.withUnsafeBufferPointer { pf in
            makeArray(rows * c) { py in
                Parallel.chunks(rows, grain: rowGrain(c) * 4, align: 1) { rs in
                    for r in rs { Vectorized.mul(py + r * c, px + r * c, pf.baseAddress!, count: c) }
                    if let shift { shift.withData { pb in for r in rs { Vectorized.addInPlace(py + r * c, pb, count: c) } } }
                }
            }
        } }
        let out = Tensor(shape: x.shape, data: y, requiresGrad: recording(tape, x, s, shift))
        if out.requiresGrad {
            tape!.record {
                out.grad.withPointer { dy in
                    if x.requiresGrad {
                        x.withGrad { dx in factor.withUnsafeBufferPointer { pf in
                            Parallel.chunks(rows, grain: rowGrain(c) * 4, align: 1) { rs in
                                for r in rs { Vectorized.addMul(dx + r * c, dy + r * c, pf.baseAddress!, count: c) }
                            }
                        } }
                    }
                    if s.requiresGrad {
                        // Σ_r dy·x in row order (deterministic), then / d.
                        var acc = [Float](repeating: 0, count: c)
                        x.withData { px in acc.withUnsafeMutableBufferPointer { pa in
                            for r in 0..<rows { Vectorized.addMul(pa.baseAddress!, dy + r * c, px + r * c, count: c) }
                        } }
                        if let d { for j in 0..<c { acc[j] /= d[j] } }
                        s.withGrad { ds in acc.withUnsafeBufferPointer { Vectorized.addInPlace(ds, $0.baseAddress!, count: c) } }
                    }
                    if let shift, shift.requiresGrad {
                        shift.withGrad { db in columnSums(dy, rows: rows, cols: c, into: db) }
                    }
                }
            }
        }
        return out
    }
}
