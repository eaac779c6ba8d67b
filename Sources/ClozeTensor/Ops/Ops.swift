import CBLAS

/// Differentiable ops (see docs/ENGINE_API.md). Each op lives in its own file in this folder with
/// its forward and backward kernels side by side.
public enum Ops {}

extension Ops {
    /// With a tape, an op's output requires grad iff some input does; without one it never does.
    @inlinable
    static func recording(_ tape: Tape?, _ inputs: Tensor?...) -> Bool {
        guard tape != nil else { return false }
        for t in inputs where t?.requiresGrad == true { return true }
        return false
    }

    /// A Float array of `n` values written by `fill` (no zero-initialisation pass).
    @inlinable
    static func makeArray(_ n: Int, _ fill: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        if n == 0 { return [] }
        return [Float](unsafeUninitializedCapacity: n) { buf, count in
            fill(buf.baseAddress!)
            count = n
        }
    }

    /// Row-major sgemm: C = alpha·op(A)·op(B) + beta·C with op(A) [m, k], op(B) [k, n].
    /// Large products are split over `Parallel` workers by rows of C (or by columns when C is wide),
    /// each piece a single-threaded sgemm; every element of C is still one dot product in BLAS's order.
    static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                     _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                     beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        if k == 0 {  // BLAS may skip the beta scaling when k == 0; do it ourselves.
            for i in 0..<m { Vectorized.scale(c + i * ldc, c + i * ldc, by: beta, count: n) }
            return
        }
        let workers = Parallel.ownGEMMThreads && m * n * k >= gemmSplitWork ? Parallel.workers(Swift.max(m, n) / 32) : 1
        if workers <= 1 {
            sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        } else if m >= n {
            Parallel.region(workers) { w in
                let r = Parallel.split(m, parts: workers, part: w, align: 16)
                if r.isEmpty { return }
                sgemm(transA, transB, r.count, n, k, alpha, transA ? a + r.lowerBound : a + r.lowerBound * lda, lda,
                      b, ldb, beta, c + r.lowerBound * ldc, ldc)
            }
        } else {
            Parallel.region(workers) { w in
                let r = Parallel.split(n, parts: workers, part: w, align: 16)
                if r.isEmpty { return }
                sgemm(transA, transB, m, r.count, k, alpha, a, lda, transB ? b + r.lowerBound * ldb : b + r.lowerBound, ldb,
                      beta, c + r.lowerBound, ldc)
            }
        }
    }

    /// Multiply-adds below which a GEMM is not worth splitting (~30 µs of work).
    static let gemmSplitWork = 1 << 20

    @inline(__always)
    private static func sgemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                              _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                              _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

/// Placeholder address for empty buffers (never dereferenced: every kernel loops 0 times).
@usableFromInline let emptyFloatBuffer = UnsafeMutablePointer<Float>.allocate(capacity: 16)

extension Tensor {
    /// Read-only pointer to `data`.
    @inlinable
    public func withData<R>(_ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        try data.withUnsafeBufferPointer { try body($0.baseAddress ?? UnsafePointer(emptyFloatBuffer)) }
    }

    /// Mutable pointer to `grad`, allocated (zeroed) first if missing. Backward kernels accumulate here.
    @inlinable
    public func withGrad<R>(_ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        ensureGrad()
        return try grad!.withUnsafeMutableBufferPointer { try body($0.baseAddress ?? emptyFloatBuffer) }
    }

    /// For kernels that can overwrite or accumulate (GEMM's beta): with no gradient yet, `body` gets an
    /// unzeroed buffer and beta 0 (it must write every element), else the gradient and beta 1.
    @inlinable
    public func withGradForGEMM<R>(_ body: (UnsafeMutablePointer<Float>, Float) throws -> R) rethrows -> R {
        var beta: Float = 1
        if grad == nil {
            beta = 0
            if let s = spareGrad, s.count == count { grad = s; spareGrad = nil } else {
                grad = Ops.makeArray(count) { _ in }
            }
        }
        return try grad!.withUnsafeMutableBufferPointer { try body($0.baseAddress ?? emptyFloatBuffer, beta) }
    }

    /// Product of all dimensions except the last (the "rows" of a [.., H] activation).
    @inlinable public var rows: Int { shape.isEmpty ? 1 : count / Swift.max(shape[shape.count - 1], 1) }
    /// Size of the last dimension.
    @inlinable public var lastDim: Int { shape.last ?? 1 }
}

extension Optional where Wrapped == [Float] {
    /// Read-only pointer to an output gradient; returns nil (and skips `body`) if there is none,
    /// i.e. the output did not reach the loss.
    @inlinable
    func withPointer(_ body: (UnsafePointer<Float>) -> Void) {
        guard let g = self else { return }
        g.withUnsafeBufferPointer { body($0.baseAddress ?? UnsafePointer(emptyFloatBuffer)) }
    }
}
