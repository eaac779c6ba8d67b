extension Ops {
    public enum GELUKind: Sendable { case erf, tanh }

    /// GELU, matching torch.nn.functional.gelu(approximate: 'none' (.erf) / 'tanh' (.tanh)):
    ///   erf:  x·Φ(x) = 0.5·x·(1 + erf(x/√2)),          d/dx = Φ(x) + x·φ(x)
    ///   tanh: 0.5·x·(1 + tanh(u)), u = √(2/π)(x + 0.044715x³), d/dx = 0.5(1+t) + 0.5x(1-t²)·u'
    public static func gelu(_ x: Tensor, kind: GELUKind, tape: Tape?) -> Tensor {
        let n = x.count
        let y = x.withData { px in
            makeArray(n) { py in
                Parallel.chunks(n, grain: transcendentalGrain) { r in
                    switch kind {
                    case .erf: elementwise(px + r.lowerBound, py + r.lowerBound, r.count, GeLUErf.self)
                    case .tanh: elementwise(px + r.lowerBound, py + r.lowerBound, r.count, GeLUTanh.self)
                    }
                }
            }
        }
        let out = Tensor(shape: x.shape, data: y, requiresGrad: recording(tape, x))
        if out.requiresGrad {
            tape!.record {
                out.grad.withPointer { dy in x.withData { px in x.withGrad { dx in
                    Parallel.chunks(n, grain: transcendentalGrain) { r in
                        let o = r.lowerBound
                        switch kind {
                        case .erf: backwardElementwise(px + o, dy + o, dx + o, r.count, GeLUErf.self)
                        case .tanh: backwardElementwise(px + o, dy + o, dx + o, r.count, GeLUTanh.self)
                        }
                    }
                } } }
            }
        }
        return out
    }

    public static func relu(_ x: Tensor, tape: Tape?) -> Tensor {
        let n = x.count
        let y = x.withData { px in makeArray(n) { py in elementwise(px, py, n, ReLU.self) } }
        let out = Tensor(shape: x.shape, data: y, requiresGrad: recording(tape, x))
        if out.requiresGrad {
            tape!.record {
                out.grad.withPointer { dy in x.withData { px in x.withGrad { dx in
                    backwardElementwise(px, dy, dx, n, ReLU.self)
                } } }
            }
        }
        return out
    }

    /// d tanh = 1 - y², read from the saved output instead of recomputing.
    public static func tanh(_ x: Tensor, tape: Tape?) -> Tensor { unaryFromOutput(x, Tanh.self, TanhFromOutput.self, tape: tape) }

    /// y = F(x) elementwise; backward dx += dy · D'(y), the derivative taken from the saved output y.
    static func unaryFromOutput<F: VectorKernel, D: VectorKernel>(_ x: Tensor, _ f: F.Type, _ d: D.Type, tape: Tape?) -> Tensor {
        let n = x.count
        let y = x.withData { px in makeArray(n) { py in elementwise(px, py, n, F.self) } }
        let out = Tensor(shape: x.shape, data: y, requiresGrad: recording(tape, x))
        if out.requiresGrad {
            tape!.record {
                out.grad.withPointer { dy in out.withData { py in x.withGrad { dx in
                    backwardElementwise(py, dy, dx, n, D.self)
                } } }
            }
        }
        return out
    }

    /// Elements per worker below which splitting an erf/exp/tanh kernel does not pay.
    static let transcendentalGrain = 8192
    /// Elements per worker below which splitting a memory-bound kernel (add, scale, mask) does not pay.
    static let streamingGrain = 32768

    // MARK: - Kernels
    // Kernels are types, not closures: generic specialisation then inlines them into the SIMD loop
    // (a closure or function value stays an out-of-line call that computes SIMD16 at half width).

    /// out[i] = K.value(x[i]) in SIMD16 blocks; the tail goes through a padded vector (same formula).
    @inline(__always)
    static func elementwise<K: VectorKernel>(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int,
                                             _ k: K.Type) {
        var i = 0
        while i + 16 <= n { Vectorized.store(K.value(Vectorized.load(x + i)), out + i); i += 16 }
        if i < n {
            var v = Vectorized.V()
            for j in 0..<(n - i) { v[j] = x[i + j] }
            let r = K.value(v)
            for j in 0..<(n - i) { out[i + j] = r[j] }
        }
    }

    /// dx[i] += dy[i] · K.derivative(x[i]) with the same SIMD16 + padded-tail scheme.
    @inline(__always)
    static func backwardElementwise<K: VectorKernel>(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                                                     _ dx: UnsafeMutablePointer<Float>, _ n: Int, _ k: K.Type) {
        var i = 0
        while i + 16 <= n {
            Vectorized.store(Vectorized.load(dx + i) + Vectorized.load(dy + i) * K.derivative(Vectorized.load(x + i)), dx + i)
            i += 16
        }
        if i < n {
            var v = Vectorized.V()
            for j in 0..<(n - i) { v[j] = x[i + j] }
            let r = K.derivative(v)
            for j in 0..<(n - i) { dx[i + j] += dy[i + j] * r[j] }
        }
    }
}

protocol VectorKernel {
    static func value(_ x: Vectorized.V) -> Vectorized.V
    static func derivative(_ x: Vectorized.V) -> Vectorized.V
}

/// 0.5·x·(1 + erf(x/√2));  d/dx = Φ(x) + x·φ(x)
enum GeLUErf: VectorKernel {
    @_transparent static func value(_ x: Vectorized.V) -> Vectorized.V {
        0.5 * x * (1 + Vectorized.erf(x * 0.707_106_781_186_547_5))
    }
    @_transparent static func derivative(_ x: Vectorized.V) -> Vectorized.V {
        let cdf = 0.5 * (1 + Vectorized.erf(x * 0.707_106_781_186_547_5))
        let pdf = Vectorized.exp(-0.5 * x * x) * 0.398_942_280_401_432_7
        return cdf + x * pdf
    }
}

/// 0.5·x·(1 + tanh(u)), u = √(2/π)(x + 0.044715x³);  d/dx = 0.5(1+t) + 0.5x(1-t²)·u'
enum GeLUTanh: VectorKernel {
    @_transparent static func value(_ x: Vectorized.V) -> Vectorized.V {
        let u = 0.797_884_560_802_865_4 * (x + 0.044715 * x * x * x)
        return 0.5 * x * (1 + Vectorized.tanh(u))
    }
    @_transparent static func derivative(_ x: Vectorized.V) -> Vectorized.V {
        let x2 = x * x
        let t = Vectorized.tanh(0.797_884_560_802_865_4 * (x + 0.044715 * x2 * x))
        let du = 0.797_884_560_802_865_4 * (1 + 3 * 0.044715 * x2)
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du
    }
}

enum ReLU: VectorKernel {
    @_transparent static func value(_ x: Vectorized.V) -> Vectorized.V { x.replacing(with: 0, where: x .< 0) }
    @_transparent static func derivative(_ x: Vectorized.V) -> Vectorized.V {
        Vectorized.V(repeating: 0).replacing(with: 1, where: x .> 0)
    }
}

enum Tanh: VectorKernel {
    @_transparent static func value(_ x: Vectorized.V) -> Vectorized.V { Vectorized.tanh(x) }
    @_transparent static func derivative(_ x: Vectorized.V) -> Vectorized.V { let t = Vectorized.tanh(x); return 1 - t * t }
}

/// tanh's derivative from its saved output y: 1 - y².
enum TanhFromOutput: VectorKernel {
    @_transparent static func value(_ y: Vectorized.V) -> Vectorized.V { y }
    @_transparent static func derivative(_ y: Vectorized.V) -> Vectorized.V { 1 - y * y }
}
