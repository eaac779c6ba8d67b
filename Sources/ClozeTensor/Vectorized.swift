/// SIMD16 elementwise helpers. Plain scalar loops do not vectorise reliably, so every
/// elementwise kernel in Cloze goes through SIMD16 loads with a scalar tail.
public enum Vectorized {
    public typealias V = SIMD16<Float>

    @inlinable @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    @inlinable @inline(__always)
    static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }

    /// dst[i] += src[i]
    @inlinable
    public static func addInPlace(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count n: Int) {
        var i = 0
        while i + 16 <= n { store(load(dst + i) + load(src + i), dst + i); i += 16 }
        while i < n { dst[i] += src[i]; i += 1 }
    }
}
