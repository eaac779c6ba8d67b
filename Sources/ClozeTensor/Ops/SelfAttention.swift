import RealModule

extension Ops {
    /// Fused multi-head scaled-dot-product self-attention: `attention` with keys of the same length as queries.
    public static func selfAttention(q: Tensor, k: Tensor, v: Tensor, batch: Int, seqLen: Int, heads: Int,
                                     keyMask: [Float], dropout: Float, rng: inout SeededRNG?, tape: Tape?) -> Tensor {
        attention(q: q, k: k, v: v, batch: batch, queryLength: seqLen, keyLength: seqLen, heads: heads,
                  keyMask: keyMask, dropout: dropout, rng: &rng, tape: tape)
    }

    /// Fused multi-head scaled-dot-product attention with `keyLength` keys per sequence (prefix tuning
    /// prepends trainable keys and values, so keys can outnumber queries).
    /// q: [B*Tq, heads*headDim]; k, v: [B*Tk, heads*headDim]; keyMask [B*Tk]: 1 = real key, 0 = padding.
    /// Per (batch, head): S = Q·Kᵀ/√headDim [Tq, Tk], P = softmax over the real keys only (padded keys get
    /// probability exactly 0, like Hugging Face's finfo.min additive mask), P' = dropout(P), C = P'·V.
    /// A query row whose sequence has no real key at all gets P = 0 (context 0).
    /// Returns the context [B*Tq, heads*headDim], heads concatenated. Batch items run in parallel on
    /// `BLASThreads.current` workers.
    public static func attention(q: Tensor, k: Tensor, v: Tensor, batch: Int, queryLength t: Int, keyLength tk: Int,
                                 heads: Int, keyMask: [Float], dropout: Float, rng: inout SeededRNG?, tape: Tape?) -> Tensor {
        let hd = q.lastDim
        require(heads > 0 && hd % heads == 0, "attention: width \(hd) is not divisible by \(heads) heads")
        let d = hd / heads
        require(q.shape == [batch * t, hd] && k.shape == [batch * tk, hd] && v.shape == k.shape,
                "attention: q \(q.shape) must be [\(batch * t), \(hd)] and k \(k.shape), v \(v.shape) [\(batch * tk), \(hd)]")
        require(keyMask.count == batch * tk, "attention: keyMask has \(keyMask.count) values, need \(batch * tk)")
        let scale = 1 / Float.sqrt(Float(d))
        let record = recording(tape, q, k, v)
        let useDropout = dropout > 0 && rng != nil
        let tt = t * tk, slabs = batch * heads, workers = Parallel.workers(batch)
        let keep = keyMask.map { $0 != 0 ? Float(1) : 0 }
        // Dropout mask for every (batch, head) drawn up front, sequentially, so it depends only on the seed.
        var dropMask = [UInt8](repeating: 0, count: useDropout ? slabs * tt : 0)
        let dropScale = dropoutScale(dropout)
        if useDropout {
            dropMask.withUnsafeMutableBufferPointer { fillDropoutMask($0.baseAddress!, slabs * tt, p: dropout, rng: &rng!) }
        }
        // Probabilities: kept for every slab when recording (backward needs them), else one slab per worker.
        var probs = makeArray(record ? slabs * tt : workers * tt) { _ in }
        var scratch = makeArray(useDropout ? workers * tt : 0) { _ in }
        let y = q.withData { pq in k.withData { pk in v.withData { pv in
            probs.withUnsafeMutableBufferPointer { pB in dropMask.withUnsafeBufferPointer { mB in
                scratch.withUnsafeMutableBufferPointer { sB in keep.withUnsafeBufferPointer { km in
                    makeArray(batch * t * hd) { pc in
                        Parallel.forEach(batch) { b, w in
                            let keepRow = km.baseAddress! + b * tk
                            let allReal = (0..<tk).allSatisfy { keepRow[$0] != 0 }
                            for h in 0..<heads {
                                let slab = b * heads + h, qOff = b * t * hd + h * d, kOff = b * tk * hd + h * d
                                let p = pB.baseAddress! + (record ? slab : w) * tt
                                gemm(transA: false, transB: true, m: t, n: tk, k: d, alpha: scale, pq + qOff, lda: hd,
                                     pk + kOff, ldb: hd, beta: 0, p, ldc: tk)
                                maskedSoftmaxRows(p, rows: t, t: tk, keep: keepRow, allReal: allReal)
                                var pUsed = UnsafePointer(p)
                                if useDropout {
                                    let s = sB.baseAddress! + w * tt
                                    Vectorized.mulMask(s, p, mB.baseAddress! + slab * tt, scale: dropScale, count: tt)
                                    pUsed = UnsafePointer(s)
                                }
                                gemm(transA: false, transB: false, m: t, n: d, k: tk, alpha: 1, pUsed, lda: tk,
                                     pv + kOff, ldb: hd, beta: 0, pc + qOff, ldc: hd)
                            }
                        }
                    }
                } }
            } }
        } } }
        let out = Tensor(shape: q.shape, data: y, requiresGrad: record)
        if record {
            tape!.record {
                out.grad.withPointer { dc in
                    attentionBackward(q: q, k: k, v: v, dc: dc, probs: probs, dropMask: dropMask, dropScale: dropScale, batch: batch,
                                      t: t, tk: tk, heads: heads, d: d, scale: scale)
                }
            }
        }
        return out
    }

    /// Softmax of each of the `rows` rows of p [rows, t] over the keys with keep[j] == 1; keys with
    /// keep[j] == 0 get exactly 0 (their exp is finite because Vectorized.exp clamps, so ·0 gives 0).
    private static func maskedSoftmaxRows(_ p: UnsafeMutablePointer<Float>, rows: Int, t: Int, keep: UnsafePointer<Float>, allReal: Bool) {
        for i in 0..<rows {
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

    /// Shapes per slab: P, dP, dS [t, tk]; Q, dQ [t, d]; K, V, dK, dV [tk, d].
    /// dP' = dC·Vᵀ, dV = P'ᵀ·dC, dP = dP'∘mask, dS = P∘(dP - rowsum(dP∘P))·scale, dQ = dS·K, dK = dSᵀ·Q.
    /// Each (batch, head) writes its own rows/columns of fresh dQ/dK/dV buffers (so batch items can run
    /// in parallel and q, k, v may even be the same tensor); the buffers are then added into the grads.
    private static func attentionBackward(q: Tensor, k: Tensor, v: Tensor, dc: UnsafePointer<Float>, probs: [Float],
                                          dropMask: [UInt8], dropScale: Float, batch: Int, t: Int, tk: Int, heads: Int, d: Int, scale: Float) {
        let hd = heads * d, tt = t * tk, n = batch * t * hd, nk = batch * tk * hd, useDropout = !dropMask.isEmpty
        let needQK = q.requiresGrad || k.requiresGrad, workers = Parallel.workers(batch)
        // An empty array's buffer may still have a base address, so the flags (not the buffers) decide.
        let needQ = q.requiresGrad, needK = k.requiresGrad, needV = v.requiresGrad
        var dq = makeArray(q.requiresGrad ? n : 0) { _ in }
        var dk = makeArray(k.requiresGrad ? nk : 0) { _ in }
        var dv = makeArray(v.requiresGrad ? nk : 0) { _ in }
        var scratch = makeArray(workers * tt * (useDropout ? 2 : 1)) { _ in }
        q.withData { pq in k.withData { pk in v.withData { pv in
            probs.withUnsafeBufferPointer { pB in dropMask.withUnsafeBufferPointer { mB in
                dq.withUnsafeMutableBufferPointer { dqB in dk.withUnsafeMutableBufferPointer { dkB in
                    dv.withUnsafeMutableBufferPointer { dvB in scratch.withUnsafeMutableBufferPointer { sB in
                        Parallel.forEach(batch) { b, w in
                            let ds = sB.baseAddress! + w * tt * (useDropout ? 2 : 1)
                            let pDrop = ds + tt
                            for h in 0..<heads {
                                let slab = b * heads + h, off = b * t * hd + h * d, kOff = b * tk * hd + h * d
                                let p = pB.baseAddress! + slab * tt
                                if needV, let dvp = dvB.baseAddress {
                                    var pUsed = p
                                    if useDropout {
                                        Vectorized.mulMask(pDrop, p, mB.baseAddress! + slab * tt, scale: dropScale, count: tt)
                                        pUsed = UnsafePointer(pDrop)
                                    }
                                    gemm(transA: true, transB: false, m: tk, n: d, k: t, alpha: 1, pUsed, lda: tk,
                                         dc + off, ldb: hd, beta: 0, dvp + kOff, ldc: hd)
                                }
                                guard needQK else { continue }
                                gemm(transA: false, transB: true, m: t, n: tk, k: d, alpha: 1, dc + off, lda: hd,
                                     pv + kOff, ldb: hd, beta: 0, ds, ldc: tk)
                                if useDropout { Vectorized.mulMask(ds, ds, mB.baseAddress! + slab * tt, scale: dropScale, count: tt) }
                                softmaxBackwardRows(ds, p, rows: t, t: tk, scale: scale)
                                if needQ, let dqp = dqB.baseAddress {
                                    gemm(transA: false, transB: false, m: t, n: d, k: tk, alpha: 1, ds, lda: tk,
                                         pk + kOff, ldb: hd, beta: 0, dqp + off, ldc: hd)
                                }
                                if needK, let dkp = dkB.baseAddress {
                                    gemm(transA: true, transB: false, m: tk, n: d, k: t, alpha: 1, ds, lda: tk,
                                         pq + off, ldb: hd, beta: 0, dkp + kOff, ldc: hd)
                                }
                            }
                        }
                    } }
                } }
            } }
        } } }
        if q.requiresGrad { q.accumulateGrad(taking: &dq) }
        if k.requiresGrad { k.accumulateGrad(taking: &dk) }
        if v.requiresGrad { v.accumulateGrad(taking: &dv) }
    }

    /// In place over each row i of dP [rows, t]: dS = P∘(dP - Σ_j dP∘P)·scale.
    @inline(__always)
    private static func softmaxBackwardRows(_ ds: UnsafeMutablePointer<Float>, _ p: UnsafePointer<Float>, rows: Int, t: Int, scale: Float) {
        for i in 0..<rows {
            let dr = ds + i * t, pr = p + i * t
            let c = Vectorized.dot(dr, pr, count: t)
            let cv = Vectorized.V(repeating: c)
            var j = 0
            while j + 16 <= t {
                Vectorized.store(Vectorized.load(pr + j) * (Vectorized.load(dr + j) - cv) * scale, dr + j); j += 16
            }
            while j < t { dr[j] = pr[j] * (dr[j] - c) * scale; j += 1 }
        }
    }
}

extension Tensor {
    /// grad += delta; when there is no gradient yet, `delta`'s buffer simply becomes the gradient.
    func accumulateGrad(taking delta: inout [Float]) {
        require(delta.count == count, "accumulateGrad: \(delta.count) values for \(name ?? "tensor") \(shape)")
        if grad == nil {
            grad = delta
        } else {
            delta.withUnsafeBufferPointer { accumulateGrad($0) }
        }
        delta = []
    }
}
