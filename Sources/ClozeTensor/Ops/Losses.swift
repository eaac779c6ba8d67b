import RealModule

extension Ops {
    /// Mean cross-entropy of logits [N, C] against class indices `targets` [N], PyTorch
    /// F.cross_entropy semantics: rows with target < 0 (e.g. -100) are ignored and the mean is over
    /// the remaining rows. If every row is ignored the loss is 0 with zero gradient (PyTorch gives NaN).
    /// Returns a scalar [1]. Backward: dlogits[r] = (softmax(logits[r]) - onehot(target)) / count.
    public static func crossEntropy(_ logits: Tensor, targets: [Int], tape: Tape?) -> Tensor {
        let c = logits.lastDim, n = logits.rows
        require(targets.count == n, "crossEntropy: \(targets.count) targets for \(n) rows of \(logits.shape)")
        for (r, tg) in targets.enumerated() where tg >= c {
            fatalError("crossEntropy: target \(tg) of row \(r) is not a class of \(logits.shape)")
        }
        let used = targets.filter { $0 >= 0 }.count
        let record = recording(tape, logits)
        // When recording, softmax rows are computed once here and reused as the gradient.
        var probs = record ? logits.data : []
        // Per-row losses in parallel, summed in row order (same total for any thread count).
        var rowLoss = [Double](repeating: 0, count: n)
        logits.withData { px in probs.withUnsafeMutableBufferPointer { pB in rowLoss.withUnsafeMutableBufferPointer { lB in
            Parallel.chunks(n, grain: rowGrain(c), align: 1) { rows in
                for r in rows where targets[r] >= 0 {
                    let row = px + r * c
                    if record {
                        let pr = pB.baseAddress! + r * c
                        let logZ = Vectorized.softmaxInPlace(pr, count: c)
                        lB[r] = Double(logZ - row[targets[r]])
                    } else {
                        lB[r] = Double(lse(row, c) - row[targets[r]])
                    }
                }
            }
        } } }
        var total: Double = 0
        for r in 0..<n where targets[r] >= 0 { total += rowLoss[r] }
        let loss = used == 0 ? 0 : Float(total / Double(used))
        let out = Tensor(shape: [1], data: [loss], requiresGrad: record)
        if record {
            tape!.record {
                guard let g = out.grad?[0], used > 0 else { return }
                let s = g / Float(used)
                logits.withGrad { dx in probs.withUnsafeBufferPointer { pB in
                    Parallel.chunks(n, grain: rowGrain(c), align: 1) { rows in
                        for r in rows where targets[r] >= 0 {
                            Vectorized.addScaled(dx + r * c, pB.baseAddress! + r * c, s, count: c)
                            dx[r * c + targets[r]] -= s
                        }
                    }
                } }
            }
        }
        return out
    }

    /// Knowledge-distillation loss (PET's `distillation_loss`):
    ///   L = F.kl_div(log_softmax(student/T), p_t, reduction='sum') / N  (× T² if scaleByTSquared)
    ///     = (1/N) Σ_r Σ_c p_t[r,c]·(log p_t[r,c] - log_softmax(student[r]/T)[c])   (0·log 0 = 0),
    /// which equals nn.KLDivLoss(reduction='batchmean')(...)·T². teacherProbabilities [N, C] are
    /// constants (already softmaxed at T). Backward: dstudent = s/(N·T)·(softmax(student/T)·Σp_t - p_t).
    public static func klDivergence(studentLogits: Tensor, teacherProbabilities: [Float], temperature: Float,
                                    scaleByTSquared: Bool, tape: Tape?) -> Tensor {
        let c = studentLogits.lastDim, n = studentLogits.rows
        require(teacherProbabilities.count == n * c,
                     "klDivergence: \(teacherProbabilities.count) teacher probabilities for student logits \(studentLogits.shape)")
        require(temperature > 0, "klDivergence: temperature must be > 0, got \(temperature)")
        let record = recording(tape, studentLogits)
        let factor = (scaleByTSquared ? temperature * temperature : 1) / Float(Swift.max(n, 1))
        var q = [Float](repeating: 0, count: n * c)  // softmax(student/T), reused by backward
        var total: Double = 0
        studentLogits.withData { ps in q.withUnsafeMutableBufferPointer { qB in teacherProbabilities.withUnsafeBufferPointer { tB in
            for r in 0..<n {
                let qr = qB.baseAddress! + r * c, pt = tB.baseAddress! + r * c
                Vectorized.scale(qr, ps + r * c, by: 1 / temperature, count: c)
                let logZ = lse(UnsafePointer(qr), c)
                var rowSum: Double = 0
                for j in 0..<c where pt[j] > 0 {
                    rowSum += Double(pt[j]) * (Double(Float.log(pt[j])) - Double(qr[j] - logZ))
                }
                total += rowSum
                if record { Vectorized.softmaxInPlace(qr, count: c) }
            }
        } } }
        let out = Tensor(shape: [1], data: [Float(total) * factor], requiresGrad: record)
        if record {
            tape!.record {
                guard let g = out.grad?[0] else { return }
                let s = g * factor / temperature
                studentLogits.withGrad { dx in q.withUnsafeBufferPointer { qB in teacherProbabilities.withUnsafeBufferPointer { tB in
                    for r in 0..<n {
                        let pt = tB.baseAddress! + r * c
                        let mass = Vectorized.sum(pt, count: c)
                        Vectorized.addScaled(dx + r * c, qB.baseAddress! + r * c, s * mass, count: c)
                        Vectorized.addScaled(dx + r * c, pt, -s, count: c)
                    }
                } } }
            }
        }
        return out
    }

    /// log Σ exp(x[j]) of one row, computed stably (max shift).
    static func lse(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        let m = Vectorized.max(x, count: n)
        let mv = Vectorized.V(repeating: m)
        var acc = Vectorized.V(), i = 0
        while i + 16 <= n { acc += Vectorized.exp(Vectorized.load(x + i) - mv); i += 16 }
        var s = acc.sum()
        while i < n { s += Vectorized.exp(x[i] - m); i += 1 }
        return Float.log(s) + m
    }
}

extension Ops {
    /// Log-softmax values picked from logits [R, C]: out[p] = log_softmax(logits[rows[p]])[cols[p]], shape [P].
    /// A row may be picked several times (multi-mask PET scores every candidate token sequence at the
    /// same mask rows). Backward: dlogits[r, :] += g_p·(onehot(c_p) − softmax(logits[r])) per pick.
    public static func logSoftmaxPick(_ logits: Tensor, rows: [Int], cols: [Int], tape: Tape?) -> Tensor {
        let c = logits.lastDim, n = logits.rows
        require(rows.count == cols.count, "logSoftmaxPick: \(rows.count) rows for \(cols.count) columns")
        for (p, (r, k)) in zip(rows, cols).enumerated() where r < 0 || r >= n || k < 0 || k >= c {
            fatalError("logSoftmaxPick: pick \(p) (\(r), \(k)) is outside \(logits.shape)")
        }
        let record = recording(tape, logits)
        let used = Array(Set(rows)).sorted()
        var logZ = [Float](repeating: 0, count: n)
        var probs = record ? [Float](repeating: 0, count: n * c) : []
        logits.withData { px in
            for r in used {
                if record {
                    probs.withUnsafeMutableBufferPointer { pB in
                        let pr = pB.baseAddress! + r * c
                        pr.update(from: px + r * c, count: c)
                        logZ[r] = Vectorized.softmaxInPlace(pr, count: c)
                    }
                } else {
                    logZ[r] = lse(px + r * c, c)
                }
            }
        }
        let values = logits.withData { px in zip(rows, cols).map { px[$0 * c + $1] - logZ[$0] } }
        let out = Tensor(shape: [rows.count], data: values, requiresGrad: record)
        if record {
            tape!.record {
                guard let g = out.grad else { return }
                logits.withGrad { dx in probs.withUnsafeBufferPointer { pB in
                    for (p, (r, k)) in zip(rows, cols).enumerated() where g[p] != 0 {
                        Vectorized.addScaled(dx + r * c, pB.baseAddress! + r * c, -g[p], count: c)
                        dx[r * c + k] += g[p]
                    }
                } }
            }
        }
        return out
    }
}
