extension Ops {
    /// y = x·Wᵀ + b with x [.., in] (rows flattened), W [out, in] (PyTorch layout), b [out] -> [.., out].
    /// Backward: dX += dY·W, dW += dYᵀ·X (only if W requires grad), db += colsum(dY) (only if b does).
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?, tape: Tape?) -> Tensor {
        require(weight.shape.count == 2, "linear: weight \(weight.name ?? "") must be [out, in], got \(weight.shape)")
        let outF = weight.shape[0], inF = weight.shape[1]
        require(x.lastDim == inF, "linear: input \(x.shape) does not match weight \(weight.name ?? "") \(weight.shape)")
        if let b = bias { require(b.count == outF, "linear: bias \(b.name ?? "") \(b.shape) needs \(outF) values") }
        let n = x.rows
        let y = x.withData { px in weight.withData { pw in
            makeArray(n * outF) { py in
                if let b = bias {
                    b.withData { pb in
                        Parallel.chunks(n, grain: rowGrain(outF) * 4, align: 1) { rows in
                            for r in rows { (py + r * outF).update(from: pb, count: outF) }
                        }
                    }
                }
                gemm(transA: false, transB: true, m: n, n: outF, k: inF, alpha: 1, px, lda: inF, pw, ldb: inF,
                     beta: bias == nil ? 0 : 1, py, ldc: outF)
            }
        } }
        let out = Tensor(shape: Array(x.shape.dropLast()) + [outF], data: y, requiresGrad: recording(tape, x, weight, bias))
        if out.requiresGrad {
            tape!.record {
                out.grad.withPointer { dy in
                    if x.requiresGrad {
                        x.withGradForGEMM { dx, beta in weight.withData { pw in
                            gemm(transA: false, transB: false, m: n, n: inF, k: outF, alpha: 1, dy, lda: outF, pw, ldb: inF,
                                 beta: beta, dx, ldc: inF)
                        } }
                    }
                    if weight.requiresGrad {
                        weight.withGradForGEMM { dw, beta in x.withData { px in
                            gemm(transA: true, transB: false, m: outF, n: inF, k: n, alpha: 1, dy, lda: outF, px, ldb: inF,
                                 beta: beta, dw, ldc: inF)
                        } }
                    }
                    if let b = bias, b.requiresGrad {
                        b.withGrad { db in columnSums(dy, rows: n, cols: outF, into: db) }
                    }
                }
            }
        }
        return out
    }
}

extension Ops {
    /// dst[j] += Σ_r src[r, j], rows summed in order; split over workers by columns.
    static func columnSums(_ src: UnsafePointer<Float>, rows: Int, cols: Int, into dst: UnsafeMutablePointer<Float>) {
        Parallel.chunks(cols, grain: rows * cols >= streamingGrain ? 64 : cols, align: 16) { cs in
            for r in 0..<rows { Vectorized.addInPlace(dst + cs.lowerBound, src + r * cols + cs.lowerBound, count: cs.count) }
        }
    }
}
