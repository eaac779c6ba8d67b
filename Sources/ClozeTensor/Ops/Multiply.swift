extension Ops {
    /// a ∘ b, same shapes. dA += dY∘b, dB += dY∘a (the LSTM gates of P-tuning's prompt encoder, swish).
    public static func mul(_ a: Tensor, _ b: Tensor, tape: Tape?) -> Tensor {
        require(a.shape == b.shape, "mul: shapes \(a.shape) and \(b.shape) differ")
        let n = a.count
        let y = a.withData { pa in b.withData { pb in makeArray(n) { py in Vectorized.mul(py, pa, pb, count: n) } } }
        let out = Tensor(shape: a.shape, data: y, requiresGrad: recording(tape, a, b))
        if out.requiresGrad {
            tape!.record {
                out.grad.withPointer { dy in
                    if a.requiresGrad { b.withData { pb in a.withGrad { da in Vectorized.addMul(da, dy, pb, count: n) } } }
                    if b.requiresGrad { a.withData { pa in b.withGrad { db in Vectorized.addMul(db, dy, pa, count: n) } } }
                }
            }
        }
        return out
    }

    /// 1 / (1 + e^-x); the derivative y(1 - y) is read from the saved output.
    public static func sigmoid(_ x: Tensor, tape: Tape?) -> Tensor { unaryFromOutput(x, Sigmoid.self, SigmoidFromOutput.self, tape: tape) }
}

enum Sigmoid: VectorKernel {
    @_transparent static func value(_ x: Vectorized.V) -> Vectorized.V { 1 / (1 + Vectorized.exp(-x)) }
    @_transparent static func derivative(_ x: Vectorized.V) -> Vectorized.V { let s = value(x); return s * (1 - s) }
}

/// The sigmoid's derivative from its saved output y: y(1 - y).
enum SigmoidFromOutput: VectorKernel {
    @_transparent static func value(_ y: Vectorized.V) -> Vectorized.V { y }
    @_transparent static func derivative(_ y: Vectorized.V) -> Vectorized.V { y * (1 - y) }
}
