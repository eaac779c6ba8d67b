extension Ops {
    /// Inverted dropout: each element is zeroed with probability p, survivors are scaled by 1/(1-p).
    /// Returns `x` itself when p == 0 or rng == nil (inference). The mask is drawn from `rng`, so the
    /// same seed gives the same mask.
    public static func dropout(_ x: Tensor, p: Float, rng: inout SeededRNG?, tape: Tape?) -> Tensor {
        guard p > 0, rng != nil else { return x }
        let n = x.count, keep = dropoutScale(p)
        var mask = [UInt8](repeating: 0, count: n)
        mask.withUnsafeMutableBufferPointer { fillDropoutMask($0.baseAddress ?? emptyByteBuffer, n, p: p, rng: &rng!) }
        let y = x.withData { px in mask.withUnsafeBufferPointer { pm in
            makeArray(n) { py in
                Parallel.chunks(n, grain: streamingGrain) { r in
                    Vectorized.mulMask(py + r.lowerBound, px + r.lowerBound, pm.baseAddress! + r.lowerBound, scale: keep, count: r.count)
                }
            }
        } }
        let out = Tensor(shape: x.shape, data: y, requiresGrad: recording(tape, x))
        if out.requiresGrad {
            tape!.record {
                out.grad.withPointer { dy in x.withGrad { dx in mask.withUnsafeBufferPointer {
                    let pm = $0.baseAddress ?? UnsafePointer(emptyByteBuffer)
                    Parallel.chunks(n, grain: streamingGrain) { r in
                        Vectorized.addMulMask(dx + r.lowerBound, dy + r.lowerBound, pm + r.lowerBound, scale: keep, count: r.count)
                    }
                } } }
            }
        }
        return out
    }

    /// The survivors' factor 1/(1-p) (0 when everything is dropped).
    static func dropoutScale(_ p: Float) -> Float { p >= 1 ? 0 : 1 / (1 - p) }

    /// mask[i] = 0 with probability p, else 1 (the survivors' scale is applied with the mask): two 24-bit uniforms per 64-bit SeededRNG draw
    /// (high bits first), u < p dropping. Eight SplitMix64 draws are computed at once in SIMD lanes
    /// (the generator's state advances by a constant, so lane j is the j-th next draw); the result is
    /// identical to calling rng.next() sequentially. Because draw j depends only on the start state
    /// and j, large masks are filled in parallel chunks with the same result.
    static func fillDropoutMask(_ mask: UnsafeMutablePointer<UInt8>, _ n: Int, p: Float, rng: inout SeededRNG) {
        let start = rng.state, gamma: UInt64 = 0x9E37_79B9_7F4A_7C15
        Parallel.chunks(n, grain: streamingGrain, align: 16) { r in
            // Elements i, i+1 (i even) use draw i/2; chunk starts are multiples of 16.
            var local = SeededRNG(seed: 0)
            local.state = start &+ UInt64(r.lowerBound / 2) &* gamma
            fillDropoutMaskSerial(mask + r.lowerBound, r.count, p: p, rng: &local)
        }
        rng.state = start &+ UInt64((n + 1) / 2) &* gamma
    }

    private static func fillDropoutMaskSerial(_ mask: UnsafeMutablePointer<UInt8>, _ n: Int, p: Float, rng: inout SeededRNG) {
        let keep: UInt8 = 1
        // u = k·2^-24 < p  ⟺  k < ceil(p·2^24) for integer k.
        let threshold = UInt64((Double(p) * 16_777_216).rounded(.up))
        let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15
        let lanes = SIMD8<UInt64>(1, 2, 3, 4, 5, 6, 7, 8) &* gamma
        var i = 0
        while i + 16 <= n {
            var z = SIMD8<UInt64>(repeating: rng.state) &+ lanes
            rng.state &+= 8 &* gamma
            z = (z ^ (z &>> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z &>> 27)) &* 0x94D0_49BB_1331_11EB
            z = z ^ (z &>> 31)
            let hi = z &>> 40, lo = (z &>> 8) & 0xFF_FFFF
            for j in 0..<8 {
                mask[i + 2 * j] = hi[j] < threshold ? 0 : keep
                mask[i + 2 * j + 1] = lo[j] < threshold ? 0 : keep
            }
            i += 16
        }
        while i < n {
            let bits = rng.next()
            mask[i] = (bits >> 40) < threshold ? 0 : keep
            if i + 1 < n { mask[i + 1] = ((bits >> 8) & 0xFF_FFFF) < threshold ? 0 : keep }
            i += 2
        }
    }
}
