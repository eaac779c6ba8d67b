#if canImport(Glibc)
import Glibc
#endif

/// Every op allocates fresh output/gradient arrays of up to tens of MB. glibc serves blocks above its
/// mmap threshold with fresh mmaps and returns them on free, so each step pays page faults and page
/// zeroing again (measured: 2-7x slower layerNorm/GELU/attention passes). Raising the mmap and trim
/// thresholds keeps freed pages in the heap for reuse. Applied once, automatically, on first Tensor
/// creation; `apply()` is idempotent. Set CLOZE_KEEP_MALLOC_DEFAULTS=1 to skip it.
public enum MemoryTuning {
    /// Whether glibc accepted both settings (false on other platforms or when skipped).
    public static var applied: Bool { once }

    public static func apply() { _ = once }

    private static let once: Bool = {
        #if canImport(Glibc)
        if getenv("CLOZE_KEEP_MALLOC_DEFAULTS") != nil { return false }
        // mallopt is not exported by the Glibc module map; look it up at run time.
        guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return false }
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        let mallopt = unsafeBitCast(sym, to: Mallopt.self)
        let mTrimThreshold: Int32 = -1, mMmapThreshold: Int32 = -3   // <malloc.h>
        let mmap = mallopt(mMmapThreshold, 32 << 20)      // glibc's maximum (HEAP_MAX_SIZE / 2)
        let trim = mallopt(mTrimThreshold, 1 << 30)
        return mmap == 1 && trim == 1
        #else
        return false
        #endif
    }()
}
