import RealModule

extension Ops {
    /// Fused multi-head scaled-dot-product self-attention.
    /// q, k, v: [B*T, heads*headDim]; keyMask [B*T]: 1 = real token, 0 = padding.
    /// Per (batch, head): S = Q·Kᵀ/√headDim, P = softmax over the real keys only (padded keys get
    /// probability exactly 0, like Hugging Face's finfo.min additive mask), P' = dropout(P), C = P'·V.
    /// A query row whose sequence has no real key at all gets P = 0 (context 0).
    /// Returns the context [B*T, heads*headDim], heads concatenated.
    public static func selfAttention(q: Tensor, k: Tensor, v: Tensor, batch: Int, seqLen: Int, heads: Int,
                                     keyMask: [Float], dropout: Float, rng: inout SeededRNG?, tape: Tape?) -> Tensor {
        let t = seqLen, hd = q.lastDim
        precondition(heads > 0 && hd % heads == 0, "selfAttention: width \(hd) is not divisible by \(heads) heads")
        let d = hd / heads
        precondition(q.shape == [batch * t, hd] && k.shape == q.shape && v.shape == q.shape,
                     "selfAttention: q \(q.shape), k \(k.shape), v \(v.shape) must all be [\(batch * t), \(hd)]")
        precondition(keyMask.count == batch * t, "selfAttention: keyMask has \(keyMask.count) values, need \(batch * t)")
        let scale = 1 / Float.sqrt(Float(d))
        let record = recording(tape, q, k, v)
        let useDropout = dropout > 0 && rng != nil
        let tt = t * t, slabs = batch * heads
        // Probabilities P for every (batch, head) (kept for backward), and the dropout mask if any.
        var probs = [Float](repeating: 0, count: slabs * tt)
        var dropMask = [Float](repeating: 0, count: useDropout ? slabs * tt : 0)
        if useDropout {
            dropMask.withUnsafeMutableBufferPointer { fillDropoutMask($0.baseAddress!, slabs * tt, p: dropout, rng: &rng!) }
        }
        var scratch = [Float](repeating: 0, count: useDropout ? tt : 0)
        let keep = keyMask.map { $0 != 0 ? Float(1) : 0 }
        let y = q.withData { pq in k.withData { pk in v.withData { pv in
            probs.withUnsafeMutableBufferPointer { pB in dropMask.withUnsafeBufferPointer { mB in
                scratch.withUnsafeMutableBufferPointer { sB in
                    keep.withUnsafeBufferPointer { km in
                        makeArray(batch * t * hd) { pc in
                            for b in 0..<batch {
                                let keepRow = km.baseAddress! + b * t
                                let allReal = (0..<t).allSatisfy { keepRow[$0] != 0 }
                                for h in 0..<heads {
                                    let slab = b * heads + h
                                    let p = pB.baseAddress! + slab * tt
                                    let off = b * t * hd + h * d
                                    gemm(transA: false, transB: true, m: t, n: t, k: d, alpha: scale, pq + off, lda: hd,
                                         pk + off, ldb: hd, beta: 0, p, ldc: t)
                                    maskedSoftmaxRows(p, t: t, keep: keepRow, allReal: allReal)
                                    var pUsed = UnsafePointer(p)
                                    if useDropout {
                                        Vectorized.mul(sB.baseAddress!, p, mB.baseAddress! + slab * tt, count: tt)
                                        pUsed = UnsafePointer(sB.baseAddress!)
                                    }
                                    gemm(transA: false, transB: false, m: t, n: d, k: t, alpha: 1, pUsed, lda: t,
                                         pv + off, ldb: hd, beta: 0, pc + off, ldc: hd)
                                }
                            }
                        }
                    }
                }
            } }
        } } }
        let out = Tensor(shape: q.shape, data: y, requiresGrad: record)
        if record {
            tape!.record {
                out.grad.withPointer { dc in
                    attentionBackward(q: q, k: k, v: v, dc: dc, probs: probs, dropMask: dropMask, batch: batch,
                                      t: t, heads: heads, d: d, scale: scale)
                }
            }
        }
        return out
    }

    /// Softmax of each of the t rows of p [t, t] over the keys with keep[j] == 1; keys with
    /// keep[j] == 0 get exactly 0 (their exp is finite because Vectorized.exp clamps, so ·0 gives 0).
    private static func maskedSoftmaxRows(_ p: UnsafeMutablePointer<Float>, t: Int, keep: UnsafePointer<Float>, allReal: Bool) {
        for i in 0..<t {
            let row = p + i * t
            if allReal { Vectorized.softmaxInPlace(row, count: t); continue }
            var m = -Float.infinity
            for j in 0..<t where keep[j] != 0 { m = Swift.max(m, row[j]) }
            if m == -.infinity { row.update(repeating: 0, count: t); continue }  // no real key at all
            let mv = Vectorized.V(repeating: m)
            var acc = Vectorized.V(), j = 0
            while j + 16 <= t {
                let e = Vectorized.exp(Vectorized.load(row + j) - mv) * Vectorized.load(keep + j)
                Vectorized.store(e, row + j); acc += e; j += 16
            }
            var s = acc.sum()
            while j < t { let e = Vectorized.exp(row[j] - m) * keep[j]; row[j] = e; s += e; j += 1 }
            Vectorized.scale(row, row, by: 1 / s, count: t)
        }
    }

    /// dP' = dC·Vᵀ, dV += P'ᵀ·dC, dP = dP'·mask, dS = P∘(dP - rowsum(dP∘P))·scale, dQ += dS·K, dK += dSᵀ·Q.
    private static func attentionBackward(q: Tensor, k: Tensor, v: Tensor, dc: UnsafePointer<Float>, probs: [Float],
                                          dropMask: [Float], batch: Int, t: Int, heads: Int, d: Int, scale: Float) {
        let hd = heads * d, tt = t * t, useDropout = !dropMask.isEmpty
        var dS = [Float](repeating: 0, count: tt), pDrop = [Float](repeating: 0, count: useDropout ? tt : 0)
        if q.requiresGrad { q.ensureGrad() }
        if k.requiresGrad { k.ensureGrad() }
        if v.requiresGrad { v.ensureGrad() }
        q.withData { pq in k.withData { pk in v.withData { pv in
            probs.withUnsafeBufferPointer { pB in dropMask.withUnsafeBufferPointer { mB in
                dS.withUnsafeMutableBufferPointer { dsB in pDrop.withUnsafeMutableBufferPointer { pdB in
                    let ds = dsB.baseAddress!
                    for b in 0..<batch {
                        for h in 0..<heads {
                            let slab = b * heads + h, off = b * t * hd + h * d
                            let p = pB.baseAddress! + slab * tt
                            if v.requiresGrad {
                                var pUsed = p
                                if useDropout {
                                    Vectorized.mul(pdB.baseAddress!, p, mB.baseAddress! + slab * tt, count: tt)
                                    pUsed = UnsafePointer(pdB.baseAddress!)
                                }
                                v.withGrad { dv in
                                    gemm(transA: true, transB: false, m: t, n: d, k: t, alpha: 1, pUsed, lda: t,
                                         dc + off, ldb: hd, beta: 1, dv + off, ldc: hd)
                                }
                            }
                            guard q.requiresGrad || k.requiresGrad else { continue }
                            gemm(transA: false, transB: true, m: t, n: t, k: d, alpha: 1, dc + off, lda: hd,
                                 pv + off, ldb: hd, beta: 0, ds, ldc: t)
                            if useDropout { Vectorized.mul(ds, ds, mB.baseAddress! + slab * tt, count: tt) }
                            for i in 0..<t {
                                let dr = ds + i * t, pr = p + i * t
                                let c = Vectorized.dot(dr, pr, count: t)
                                let cv = Vectorized.V(repeating: c)
                                var j = 0
                                while j + 16 <= t {
                                    Vectorized.store(Vectorized.load(pr + j) * (Vectorized.load(dr + j) - cv) * scale, dr + j); j += 16
                                }
                                while j < t { dr[j] = pr[j] * (dr[j] - c) * scale; j += 1 }
                            }
                            if q.requiresGrad {
                                q.withGrad { dq in
                                    gemm(transA: false, transB: false, m: t, n: d, k: t, alpha: 1, ds, lda: t,
                                         pk + off, ldb: hd, beta: 1, dq + off, ldc: hd)
                                }
                            }
                            if k.requiresGrad {
                                k.withGrad { dk in
                                    gemm(transA: true, transB: false, m: t, n: d, k: t, alpha: 1, ds, lda: t,
                                         pq + off, ldb: hd, beta: 1, dk + off, ldc: hd)
                                }
                            }
                        }
                    }
                } }
            } }
        } } }
    }
}
