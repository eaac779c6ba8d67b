extension Ops {
    /// Batched C[i] = op(A[i])·op(B[i]) for i in 0..<batch, with op = transpose when asked.
    /// a: [batch, M, K] ([batch, K, M] if transposeA), b: [batch, K, N] ([batch, N, K] if transposeB);
    /// the leading batch dimension may be omitted when batch == 1. Output [batch, M, N] ([M, N] if a is 2-D).
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool, batch: Int,
                              tape: Tape?) -> Tensor {
        require(batch >= 1 && a.shape.count >= 2 && b.shape.count >= 2 && a.count % batch == 0 && b.count % batch == 0,
                     "matmul: bad shapes \(a.shape), \(b.shape) for batch \(batch)")
        let ar = a.shape[a.shape.count - 2], ac = a.shape[a.shape.count - 1]
        let br = b.shape[b.shape.count - 2], bc = b.shape[b.shape.count - 1]
        require(ar * ac * batch == a.count && br * bc * batch == b.count,
                     "matmul: shapes \(a.shape), \(b.shape) do not hold \(batch) matrices each")
        let m = transposeA ? ac : ar, k = transposeA ? ar : ac
        let kb = transposeB ? bc : br, n = transposeB ? br : bc
        require(k == kb, "matmul: inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")")
        let sa = ar * ac, sb = br * bc, sc = m * n
        let y = a.withData { pa in b.withData { pb in
            makeArray(batch * sc) { pc in
                for i in 0..<batch {
                    gemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k, alpha: 1, pa + i * sa, lda: ac,
                         pb + i * sb, ldb: bc, beta: 0, pc + i * sc, ldc: n)
                }
            }
        } }
        let shape = a.shape.count == 2 ? [m, n] : [batch, m, n]
        let out = Tensor(shape: shape, data: y, requiresGrad: recording(tape, a, b))
        if out.requiresGrad {
            tape!.record {
                out.grad.withPointer { dc in
                    for i in 0..<batch {
                        let dci = dc + i * sc
                        if a.requiresGrad {
                            a.withGrad { da in b.withData { pb in
                                if !transposeA {  // dA [M,K] = dC·op(B)ᵀ
                                    gemm(transA: false, transB: !transposeB, m: m, n: k, k: n, alpha: 1, dci, lda: n,
                                         pb + i * sb, ldb: bc, beta: 1, da + i * sa, ldc: ac)
                                } else {          // dA [K,M] = op(B)·dCᵀ
                                    gemm(transA: transposeB, transB: true, m: k, n: m, k: n, alpha: 1, pb + i * sb, lda: bc,
                                         dci, ldb: n, beta: 1, da + i * sa, ldc: ac)
                                }
                            } }
                        }
                        if b.requiresGrad {
                            b.withGrad { db in a.withData { pa in
                                if !transposeB {  // dB [K,N] = op(A)ᵀ·dC
                                    gemm(transA: !transposeA, transB: false, m: k, n: n, k: m, alpha: 1, pa + i * sa, lda: ac,
                                         dci, ldb: n, beta: 1, db + i * sb, ldc: bc)
                                } else {          // dB [N,K] = dCᵀ·op(A)
                                    gemm(transA: true, transB: transposeA, m: n, n: k, k: m, alpha: 1, dci, lda: n,
                                         pa + i * sa, ldb: ac, beta: 1, db + i * sb, ldc: bc)
                                }
                            } }
                        }
                    }
                }
            }
        }
        return out
    }
}
