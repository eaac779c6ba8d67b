extension Ops {
    /// Sum of all elements -> scalar [1].
    public static func sum(_ x: Tensor, tape: Tape?) -> Tensor {
        reduce(x, factor: 1, tape: tape)
    }

    /// Mean of all elements -> scalar [1].
    public static func mean(_ x: Tensor, tape: Tape?) -> Tensor {
        reduce(x, factor: x.count == 0 ? 0 : 1 / Float(x.count), tape: tape)
    }

    /// Σ x[i]·weights[i] -> scalar [1] (weights are constants). Projects any tensor onto a
    /// scalar; the gradient checks use it as a generic loss.
    public static func weightedSum(_ x: Tensor, weights: [Float], tape: Tape?) -> Tensor {
        require(weights.count == x.count, "weightedSum: \(weights.count) weights for \(x.count) values")
        let n = x.count
        let s = x.withData { px in weights.withUnsafeBufferPointer { Vectorized.dot(px, $0.baseAddress ?? UnsafePointer(emptyFloatBuffer), count: n) } }
        let out = Tensor(shape: [1], data: [s], requiresGrad: recording(tape, x))
        if out.requiresGrad {
            tape!.record {
                guard let g = out.grad?[0] else { return }
                x.withGrad { dx in weights.withUnsafeBufferPointer { Vectorized.addScaled(dx, $0.baseAddress ?? UnsafePointer(emptyFloatBuffer), g, count: n) } }
            }
        }
        return out
    }

    private static func reduce(_ x: Tensor, factor: Float, tape: Tape?) -> Tensor {
        let n = x.count
        let s = x.withData { Vectorized.sum($0, count: n) } * factor
        let out = Tensor(shape: [1], data: [s], requiresGrad: recording(tape, x))
        if out.requiresGrad {
            tape!.record {
                guard let g = out.grad?[0] else { return }
                let d = Vectorized.V(repeating: g * factor)
                x.withGrad { dx in
                    var i = 0
                    while i + 16 <= n { Vectorized.store(Vectorized.load(dx + i) + d, dx + i); i += 16 }
                    while i < n { dx[i] += g * factor; i += 1 }
                }
            }
        }
        return out
    }
}
