/// Vectorised F16 / BF16 -> Float32 conversion (SIMD16, scalar tail), for loading half-precision
/// checkpoints. Both are exact: every F16 and BF16 value is representable as a Float32.
enum HalfConversion {
    typealias U16x16 = SIMD16<UInt16>
    typealias U32x16 = SIMD16<UInt32>

    /// bfloat16 is the top half of a float32: shift left by 16.
    static func bf16ToFloat(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count n: Int) {
        var i = 0
        while i + 16 <= n {
            let h = src.loadUnaligned(fromByteOffset: 2 * i, as: U16x16.self)
            let bits = U32x16(truncatingIfNeeded: h) &<< 16
            UnsafeMutableRawPointer(dst + i).storeBytes(of: unsafeBitCast(bits, to: SIMD16<Float>.self), as: SIMD16<Float>.self)
            i += 16
        }
        while i < n {
            let h = src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
            dst[i] = Float(bitPattern: UInt32(h) << 16)
            i += 1
        }
    }

    /// IEEE half -> float: move exponent+mantissa into float position and multiply by 2^112 to
    /// rebias (this also normalises subnormal halves exactly); Inf/NaN get the all-ones exponent.
    static func f16ToFloat(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count n: Int) {
        let rebias = SIMD16<Float>(repeating: Float(sign: .plus, exponent: 112, significand: 1))
        var i = 0
        while i + 16 <= n {
            let h = U32x16(truncatingIfNeeded: src.loadUnaligned(fromByteOffset: 2 * i, as: U16x16.self))
            let magnitude = unsafeBitCast((h & 0x7FFF) &<< 13, to: SIMD16<Float>.self) * rebias
            var bits = unsafeBitCast(magnitude, to: U32x16.self)
            let special = (h & 0x7C00) .== 0x7C00
            bits.replace(with: 0x7F80_0000 | ((h & 0x03FF) &<< 13), where: special)
            bits |= (h & 0x8000) &<< 16
            UnsafeMutableRawPointer(dst + i).storeBytes(of: unsafeBitCast(bits, to: SIMD16<Float>.self), as: SIMD16<Float>.self)
            i += 16
        }
        while i < n {
            dst[i] = f16ToFloat(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            i += 1
        }
    }

    @inline(__always)
    static func f16ToFloat(_ h: UInt16) -> Float {
        let h32 = UInt32(h)
        if h32 & 0x7C00 == 0x7C00 {
            return Float(bitPattern: (h32 & 0x8000) << 16 | 0x7F80_0000 | (h32 & 0x03FF) << 13)
        }
        let magnitude = Float(bitPattern: (h32 & 0x7FFF) << 13) * Float(sign: .plus, exponent: 112, significand: 1)
        return Float(bitPattern: magnitude.bitPattern | (h32 & 0x8000) << 16)
    }
}
