import Dispatch

/// Work splitting for ops made of many small independent GEMMs (attention per batch item).
/// Uses as many workers as OpenBLAS is allowed threads (`BLASThreads`), and runs BLAS single-threaded
/// inside the region so the small GEMMs do not fight over the same cores.
enum Parallel {
    /// Calls body(item, worker) for item in 0..<count; worker in 0..<workers(count) owns scratch slot `worker`.
    static func forEach(_ count: Int, _ body: (_ item: Int, _ worker: Int) -> Void) {
        let n = workers(count)
        if n <= 1 {
            for i in 0..<count { body(i, 0) }
            return
        }
        let saved = BLASThreads.current
        BLASThreads.set(1)
        DispatchQueue.concurrentPerform(iterations: n) { w in
            var i = w
            while i < count { body(i, w); i += n }
        }
        BLASThreads.set(saved)
    }

    static func workers(_ count: Int) -> Int { Swift.max(1, Swift.min(count, BLASThreads.current)) }
}
