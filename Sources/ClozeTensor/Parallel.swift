import CBLAS
import Dispatch
import Foundation

/// Cloze's one thread pool. With `BLASThreads.set(n)`, n workers (GCD `concurrentPerform`) split
/// large GEMMs (by rows or columns of C), attention batch items and large elementwise / row kernels,
/// while OpenBLAS itself runs single-threaded. Why not OpenBLAS's own threads: after each call its
/// workers busy-wait (~0.1 s, OPENBLAS_THREAD_TIMEOUT) and fight the Swift workers for the 2 cores,
/// and small [512,384]x[384,384] GEMMs barely scale with them. Every split is a fixed function of the
/// sizes and each output element is computed by one worker in the same order as the serial code, so
/// results do not depend on the thread count.
/// `CLOZE_GEMM_THREADS=openblas` restores OpenBLAS's own threading for GEMMs (for comparison).
public enum Parallel {
    /// Worker count (what `BLASThreads.current` reports). First use adopts OpenBLAS's thread count
    /// (OPENBLAS_NUM_THREADS or the core count) and switches OpenBLAS to one thread.
    nonisolated(unsafe) static var threads: Int = adoptOpenBLASThreads()
    /// True while a parallel region runs: nested work (a GEMM inside an attention worker) stays serial.
    nonisolated(unsafe) static var inRegion = false
    /// GEMMs split by Cloze (default) or threaded by OpenBLAS (`CLOZE_GEMM_THREADS=openblas`).
    static let ownGEMMThreads: Bool = ProcessInfo.processInfo.environment["CLOZE_GEMM_THREADS"] != "openblas"

    static func adoptOpenBLASThreads() -> Int {
        let n = Swift.max(1, Int(openblas_get_num_threads()))
        if ownGEMMThreads { openblas_set_num_threads(1) }
        return n
    }

    static func setThreads(_ n: Int) {
        threads = Swift.max(1, n)
        openblas_set_num_threads(Int32(ownGEMMThreads ? 1 : threads))
    }

    /// Calls body(item, worker) for item in 0..<count; worker in 0..<workers(count) owns scratch slot `worker`.
    static func forEach(_ count: Int, _ body: (_ item: Int, _ worker: Int) -> Void) {
        let n = workers(count)
        if n <= 1 {
            for i in 0..<count { body(i, 0) }
            return
        }
        let savedBLAS = ownGEMMThreads ? 1 : threads
        if !ownGEMMThreads { openblas_set_num_threads(1) }
        region(n) { w in
            var i = w
            while i < count { body(i, w); i += n }
        }
        if !ownGEMMThreads { openblas_set_num_threads(Int32(savedBLAS)) }
    }

    static func workers(_ count: Int) -> Int { inRegion ? 1 : Swift.max(1, Swift.min(count, threads)) }

    /// Splits 0..<count into contiguous ranges of at least `grain` items (ends multiples of `align`)
    /// and calls body(range) for each, in parallel when there is more than one. Small work stays serial.
    static func chunks(_ count: Int, grain: Int, align: Int = 16, _ body: (Range<Int>) -> Void) {
        let n = inRegion ? 1 : Swift.max(1, Swift.min(threads, count / Swift.max(grain, 1)))
        if n <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        region(n) { w in
            let r = split(count, parts: n, part: w, align: align)
            if !r.isEmpty { body(r) }
        }
    }

    /// Part `part` of `parts` contiguous pieces of 0..<count, piece ends rounded to multiples of `align`.
    @inline(__always)
    static func split(_ count: Int, parts: Int, part: Int, align: Int) -> Range<Int> {
        func end(_ p: Int) -> Int {
            if p >= parts { return count }
            let e = (count * p / parts + align / 2) / align * align
            return Swift.min(e, count)
        }
        return (part == 0 ? 0 : end(part))..<end(part + 1)
    }

    /// Runs body(worker) for worker in 0..<n concurrently (the caller's thread takes part).
    static func region(_ n: Int, _ body: (Int) -> Void) {
        inRegion = true
        DispatchQueue.concurrentPerform(iterations: n, execute: body)
        inRegion = false
    }
}
