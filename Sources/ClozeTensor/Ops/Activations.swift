extension Ops {
    public enum GELUKind: Sendable { case erf, tanh }

    /// GELU, matching torch.nn.functional.gelu(approximate: 'none' (.erf) / 'tanh' (.tanh)):
    ///   erf:  x·Φ(x) = 0.5·x·(1 + erf(x/√2)),          d/dx = Φ(x) + x·φ(x)
    ///   tanh: 0.5·x·(1 + tanh(u)), u = √(2/π)(x + 0.044715x³), d/dx = 0.5(1+t) + 0.5x(1-t²)·u'
    public static func gelu(_ x: Tensor, kind: GELUKind, tape: Tape?) -> Tensor {
        let n = x.count
        let y = x.withData { px in
            makeArray(n) { py in
                elementwise(px, py, n) { kind == .erf ? geluErf($0) : geluTanh($0) }
            }
        }
        let out = Tensor(shape: x.shape, data: y, requiresGrad: recording(tape, x))
        if out.requiresGrad {
            tape!.record {
                out.grad.withPointer { dy in x.withData { px in x.withGrad { dx in
                    backwardElementwise(px, dy, dx, n) { kind == .erf ? geluErfGrad($0) : geluTanhGrad($0) }
                } } }
            }
        }
        return out
    }

    public static func relu(_ x: Tensor, tape: Tape?) -> Tensor {
        let n = x.count
        let y = x.withData { px in makeArray(n) { py in elementwise(px, py, n) { $0.replacing(with: 0, where: $0 .< 0) } } }
        let out = Tensor(shape: x.shape, data: y, requiresGrad: recording(tape, x))
        if out.requiresGrad {
            tape!.record {
                out.grad.withPointer { dy in x.withData { px in x.withGrad { dx in
                    backwardElementwise(px, dy, dx, n) { Vectorized.V(repeating: 0).replacing(with: 1, where: $0 .> 0) }
                } } }
            }
        }
        return out
    }

    public static func tanh(_ x: Tensor, tape: Tape?) -> Tensor {
        let n = x.count
        let y = x.withData { px in makeArray(n) { py in elementwise(px, py, n) { Vectorized.tanh($0) } } }
        let out = Tensor(shape: x.shape, data: y, requiresGrad: recording(tape, x))
        if out.requiresGrad {
            tape!.record {  // d tanh = 1 - y²; read the saved output instead of recomputing.
                out.grad.withPointer { dy in out.withData { py in x.withGrad { dx in
                    backwardElementwise(py, dy, dx, n) { 1 - $0 * $0 }
                } } }
            }
        }
        return out
    }

    // MARK: - Kernels

    @inline(__always)
    static func geluErf(_ x: Vectorized.V) -> Vectorized.V {
        0.5 * x * (1 + Vectorized.erf(x * 0.707_106_781_186_547_5))
    }
    @inline(__always)
    static func geluErfGrad(_ x: Vectorized.V) -> Vectorized.V {
        let cdf = 0.5 * (1 + Vectorized.erf(x * 0.707_106_781_186_547_5))
        let pdf = Vectorized.exp(-0.5 * x * x) * 0.398_942_280_401_432_7
        return cdf + x * pdf
    }
    @inline(__always)
    static func geluTanh(_ x: Vectorized.V) -> Vectorized.V {
        let u = 0.797_884_560_802_865_4 * (x + 0.044715 * x * x * x)
        return 0.5 * x * (1 + Vectorized.tanh(u))
    }
    @inline(__always)
    static func geluTanhGrad(_ x: Vectorized.V) -> Vectorized.V {
        let x2 = x * x
        let t = Vectorized.tanh(0.797_884_560_802_865_4 * (x + 0.044715 * x2 * x))
        let du = 0.797_884_560_802_865_4 * (1 + 3 * 0.044715 * x2)
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du
    }

    /// out[i] = f(x[i]) in SIMD16 blocks; the tail goes through a padded vector so it uses the same f.
    @inline(__always)
    static func elementwise(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int,
                            _ f: (Vectorized.V) -> Vectorized.V) {
        var i = 0
        while i + 16 <= n { Vectorized.store(f(Vectorized.load(x + i)), out + i); i += 16 }
        if i < n {
            var v = Vectorized.V()
            for j in 0..<(n - i) { v[j] = x[i + j] }
            let r = f(v)
            for j in 0..<(n - i) { out[i + j] = r[j] }
        }
    }

    /// dx[i] += dy[i] · f'(x[i]) with the same SIMD16 + padded-tail scheme.
    @inline(__always)
    static func backwardElementwise(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                                    _ n: Int, _ fprime: (Vectorized.V) -> Vectorized.V) {
        var i = 0
        while i + 16 <= n {
            Vectorized.store(Vectorized.load(dx + i) + Vectorized.load(dy + i) * fprime(Vectorized.load(x + i)), dx + i); i += 16
        }
        if i < n {
            var v = Vectorized.V()
            for j in 0..<(n - i) { v[j] = x[i + j] }
            let r = fprime(v)
            for j in 0..<(n - i) { dx[i + j] += dy[i + j] * r[j] }
        }
    }
}
