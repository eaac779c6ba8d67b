import RealModule

/// Vectorised transcendental functions on SIMD16<Float> (Foundation's scalar `exp`/`erf`/`tanh`
/// do not vectorise). Accuracy is checked against Double-precision references in VectorMathTests.
extension Vectorized {
    public typealias VI = SIMD16<Int32>

    // @_transparent (forced inlining) on the SIMD16 kernels: when not inlined they are emitted as
    // calls that pass SIMD16 in four xmm registers and compute at half width (measured 2x slower).

    /// Lane-wise max/min via compare + blend. The standard library's pointwiseMax/Min carry
    /// IEEE NaN rules and compile to a scalar loop; these become vmaxps-like blends.
    @_transparent
    public static func max(_ a: V, _ b: V) -> V { a.replacing(with: b, where: a .< b) }
    @_transparent
    public static func min(_ a: V, _ b: V) -> V { a.replacing(with: b, where: b .< a) }

    /// exp(x), Cephes-style: x = n·ln2 + r with |r| <= ln2/2, exp(r) by a degree-7 polynomial,
    /// 2^n built directly in the exponent bits. Relative error ~1e-7; exactly 0 below -87.33.
    @_transparent
    public static func exp(_ x0: V) -> V {
        let lo = V(repeating: -87.33654), hi = V(repeating: 88.0)
        let x = min(max(x0, lo), hi)
        // Round x·log2(e) to nearest with the 1.5·2^23 trick: the integer lands in the low mantissa bits.
        let magic = V(repeating: 12_582_912.0)
        let t = x * 1.442_695_04 + magic
        let n = t - magic
        var r = x - n * 0.693_359_375
        r = r - n * -2.121_944_40e-4
        var p = V(repeating: 1.987_569_150_0e-4)
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        let y = p * (r * r) + r + 1
        let ni = unsafeBitCast(t, to: VI.self) &- unsafeBitCast(magic, to: VI.self)
        let twoN = unsafeBitCast((ni &+ 127) &<< 23, to: V.self)
        return (y * twoN).replacing(with: 0, where: x0 .< lo)
    }

    /// erf(x) as x·P(x²)/Q(x²) on [-4, 4] (the rational minimax form used by Eigen/XLA for float);
    /// |erf(4)| = 1 - 1.5e-8, so clamping is exact in float. Absolute error < 4e-7 (the rational
    /// form is within 6.5e-8; the rest is float32 rounding in the Horner steps).
    @_transparent
    public static func erf(_ a: V) -> V {
        let x = min(max(a, V(repeating: -4)), V(repeating: 4))
        let x2 = x * x
        var p = x2 * -2.726_142_258_013_06e-10 + 2.770_681_424_959_02e-08
        p = x2 * p + -2.101_024_020_825_08e-06
        p = x2 * p + -5.692_506_394_623_46e-05
        p = x2 * p + -7.349_906_303_268_55e-04
        p = x2 * p + -2.954_599_808_540_25e-03
        p = x2 * p + -1.609_603_332_624_15e-02
        p = x * p
        var q = x2 * -1.456_607_184_649_96e-05 + -2.133_740_552_789_05e-04
        q = x2 * q + -1.682_826_974_382_03e-03
        q = x2 * q + -7.373_329_167_204_68e-03
        q = x2 * q + -1.426_473_905_141_89e-02
        return p / q
    }

    /// tanh(x), Cephes tanhf: odd polynomial for |x| < 0.625, else 1 - 2/(exp(2|x|)+1) with sign.
    @_transparent
    public static func tanh(_ x: V) -> V {
        let ax = min(x.replacing(with: -x, where: x .< 0), V(repeating: 20))
        let e = exp(ax + ax)
        var big = 1 - 2 / (e + 1)
        big.replace(with: -big, where: x .< 0)
        let s = x * x
        var p = s * -5.704_988_727_45e-3 + 2.063_908_879_54e-2
        p = p * s + -5.373_971_555_31e-2
        p = p * s + 1.333_144_220_36e-1
        p = p * s + -3.333_328_194_22e-1
        let small = p * s * x + x
        return big.replacing(with: small, where: ax .< 0.625)
    }

    /// Scalar versions for tails (same formulas, so tails and bodies agree bit-for-bit).
    @inlinable @inline(__always)
    public static func exp(_ x: Float) -> Float { exp(V(repeating: x))[0] }
    @inlinable @inline(__always)
    public static func erf(_ x: Float) -> Float { erf(V(repeating: x))[0] }
    @inlinable @inline(__always)
    public static func tanh(_ x: Float) -> Float { tanh(V(repeating: x))[0] }

    // MARK: - Reductions and row kernels

    @inlinable
    public static func sum(_ p: UnsafePointer<Float>, count n: Int) -> Float {
        var acc = V(), i = 0
        while i + 16 <= n { acc += load(p + i); i += 16 }
        var s = acc.sum()
        while i < n { s += p[i]; i += 1 }
        return s
    }

    @inlinable
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count n: Int) -> Float {
        var acc = V(), i = 0
        while i + 16 <= n { acc += load(a + i) * load(b + i); i += 16 }
        var s = acc.sum()
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }

    @inlinable
    public static func max(_ p: UnsafePointer<Float>, count n: Int) -> Float {
        var m = -Float.infinity, i = 0
        if n >= 16 {
            var acc = V(repeating: -.infinity)
            while i + 16 <= n { acc = max(acc, load(p + i)); i += 16 }
            // Horizontal max by halving (SIMD.max() is a scalar loop).
            let a8 = max8(acc.lowHalf, acc.highHalf)
            let a4 = max4(a8.lowHalf, a8.highHalf)
            m = Swift.max(Swift.max(a4[0], a4[1]), Swift.max(a4[2], a4[3]))
        }
        while i < n { m = Swift.max(m, p[i]); i += 1 }
        return m
    }

    @inlinable @inline(__always)
    static func max8(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { a.replacing(with: b, where: a .< b) }
    @inlinable @inline(__always)
    static func max4(_ a: SIMD4<Float>, _ b: SIMD4<Float>) -> SIMD4<Float> { a.replacing(with: b, where: a .< b) }

    /// dst[i] = src[i] * s (dst may equal src).
    @inlinable
    public static func scale(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, by s: Float, count n: Int) {
        var i = 0
        while i + 16 <= n { store(load(src + i) * s, dst + i); i += 16 }
        while i < n { dst[i] = src[i] * s; i += 1 }
    }

    /// dst[i] += src[i] * s
    @inlinable
    public static func addScaled(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ s: Float, count n: Int) {
        var i = 0
        while i + 16 <= n { store(load(dst + i) + load(src + i) * s, dst + i); i += 16 }
        while i < n { dst[i] += src[i] * s; i += 1 }
    }

    /// dst[i] = a[i] * b[i]
    @inlinable
    public static func mul(_ dst: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count n: Int) {
        var i = 0
        while i + 16 <= n { store(load(a + i) * load(b + i), dst + i); i += 16 }
        while i < n { dst[i] = a[i] * b[i]; i += 1 }
    }

    /// dst[i] += a[i] * b[i]
    @inlinable
    public static func addMul(_ dst: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count n: Int) {
        var i = 0
        while i + 16 <= n { store(load(dst + i) + load(a + i) * load(b + i), dst + i); i += 16 }
        while i < n { dst[i] += a[i] * b[i]; i += 1 }
    }

    /// The factors of 16 dropout-mask bytes (0 or 1) times the survivors' scale s: exactly 0 or s, so
    /// products with them equal those with a Float mask holding 0 and s.
    @_transparent
    public static func maskFactor(_ m: UnsafePointer<UInt8>, _ s: Float) -> V {
        V(SIMD16<Int32>(truncatingIfNeeded: UnsafeRawPointer(m).loadUnaligned(as: SIMD16<UInt8>.self))) * s
    }

    /// dst[i] = a[i] * (mask[i]·s), mask bytes 0 or 1 (dropout: 4x smaller than a Float mask).
    @inlinable
    public static func mulMask(_ dst: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ mask: UnsafePointer<UInt8>,
                               scale s: Float, count n: Int) {
        var i = 0
        while i + 16 <= n { store(load(a + i) * maskFactor(mask + i, s), dst + i); i += 16 }
        while i < n { dst[i] = a[i] * (Float(mask[i]) * s); i += 1 }
    }

    /// dst[i] += a[i] * (mask[i]·s), mask bytes 0 or 1.
    @inlinable
    public static func addMulMask(_ dst: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ mask: UnsafePointer<UInt8>,
                                  scale s: Float, count n: Int) {
        var i = 0
        while i + 16 <= n { store(load(dst + i) + load(a + i) * maskFactor(mask + i, s), dst + i); i += 16 }
        while i < n { dst[i] += a[i] * (Float(mask[i]) * s); i += 1 }
    }

    /// In-place softmax of one row of n values: exp(x - max) / sum. Returns log(sum) + max
    /// (the log-partition), so callers can form log-softmax without a second pass over exp.
    @discardableResult @inlinable
    public static func softmaxInPlace(_ p: UnsafeMutablePointer<Float>, count n: Int) -> Float {
        let m = max(p, count: n)
        var acc = V(), i = 0
        let mv = V(repeating: m)
        while i + 16 <= n { let e = exp(load(p + i) - mv); store(e, p + i); acc += e; i += 16 }
        var s = acc.sum()
        while i < n { let e = exp(p[i] - m); p[i] = e; s += e; i += 1 }
        scale(p, p, by: 1 / s, count: n)
        return Float.log(s) + m
    }
}

