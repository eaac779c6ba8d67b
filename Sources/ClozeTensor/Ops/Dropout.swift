extension Ops {
    /// Inverted dropout: each element is zeroed with probability p, survivors are scaled by 1/(1-p).
    /// Returns `x` itself when p == 0 or rng == nil (inference). The mask is drawn from `rng`, so the
    /// same seed gives the same mask.
    public static func dropout(_ x: Tensor, p: Float, rng: inout SeededRNG?, tape: Tape?) -> Tensor {
        guard p > 0, rng != nil else { return x }
        let n = x.count
        var mask = [Float](repeating: 0, count: n)
        mask.withUnsafeMutableBufferPointer { fillDropoutMask($0.baseAddress ?? emptyFloatBuffer, n, p: p, rng: &rng!) }
        let y = x.withData { px in mask.withUnsafeBufferPointer { pm in
            makeArray(n) { Vectorized.mul($0, px, pm.baseAddress ?? UnsafePointer(emptyFloatBuffer), count: n) }
        } }
        let out = Tensor(shape: x.shape, data: y, requiresGrad: recording(tape, x))
        if out.requiresGrad {
            tape!.record {
                out.grad.withPointer { dy in x.withGrad { dx in mask.withUnsafeBufferPointer {
                    Vectorized.addMul(dx, dy, $0.baseAddress ?? UnsafePointer(emptyFloatBuffer), count: n)
                } } }
            }
        }
        return out
    }

    /// mask[i] = 0 with probability p, else 1/(1-p). Two 24-bit uniforms per 64-bit draw.
    static func fillDropoutMask(_ mask: UnsafeMutablePointer<Float>, _ n: Int, p: Float, rng: inout SeededRNG) {
        let keep: Float = p >= 1 ? 0 : 1 / (1 - p)
        let unit: Float = 1.0 / Float(1 << 24)
        var i = 0
        while i < n {
            let bits = rng.next()
            mask[i] = Float(bits >> 40) * unit < p ? 0 : keep
            if i + 1 < n { mask[i + 1] = Float((bits >> 8) & 0xFF_FFFF) * unit < p ? 0 : keep }
            i += 2
        }
    }
}
