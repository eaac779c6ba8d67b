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
    /// Large products are cut into `gemmPieces(m:n:k:)` blocks of rows of C (or of columns when C is
    /// wide), each a single-threaded sgemm, and the blocks are shared out over `Parallel` workers.
    /// The cut depends on the sizes only, never on the thread count: OpenBLAS's kernels (Haswell/Zen
    /// among them) do not give bit-identical elements when the same product is cut differently, so
    /// 1 thread computes exactly the blocks that 2 or 3 threads do, and results are the same bits.
    static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                     _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                     beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        if k == 0 {  // BLAS may skip the beta scaling when k == 0; do it ourselves.
            for i in 0..<m { Vectorized.scale(c + i * ldc, c + i * ldc, by: beta, count: n) }
            return
        }
        let pieces = Parallel.ownGEMMThreads ? gemmPieces(m: m, n: n, k: k) : 1
        if pieces <= 1 {
            sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        } else if m >= n {
            Parallel.forEach(pieces) { p, _ in
                let r = Parallel.split(m, parts: pieces, part: p, align: 16)
                if r.isEmpty { return }
                sgemm(transA, transB, r.count, n, k, alpha, transA ? a + r.lowerBound : a + r.lowerBound * lda, lda,
                      b, ldb, beta, c + r.lowerBound * ldc, ldc)
            }
        } else {
            Parallel.forEach(pieces) { p, _ in
                let r = Parallel.split(n, parts: pieces, part: p, align: 16)
                if r.isEmpty { return }
                sgemm(transA, transB, m, r.count, k, alpha, a, lda, transB ? b + r.lowerBound * ldb : b + r.lowerBound, ldb,
                      beta, c + r.lowerBound, ldc)
            }
        }
    }

    /// Multiply-adds below which a GEMM is not cut (~30 µs of work).
    static let gemmSplitWork = 1 << 20

    /// How many blocks a product is cut into: a function of its sizes alone (see `gemm`). 1, 2 or 4,
    /// so 1, 2 and 4 workers get equal shares; blocks keep at least 64 rows (columns) of C.
    static func gemmPieces(m: Int, n: Int, k: Int) -> Int {
        guard m * n * k >= gemmSplitWork else { return 1 }
        let side = Swift.max(m, n)
        return side >= 256 ? 4 : side >= 128 ? 2 : 1
    }

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
/// The byte-mask counterpart of emptyFloatBuffer (an empty [UInt8] may have no base address).
@usableFromInline let emptyByteBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: 16)

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
