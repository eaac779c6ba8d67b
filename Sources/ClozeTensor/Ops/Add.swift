extension Ops {
    /// a + b (same shape).
    public static func add(_ a: Tensor, _ b: Tensor, tape: Tape?) -> Tensor {
        addScaled(a, b, alpha: 1, beta: 1, tape: tape)
    }

    /// alpha·a + beta·b (same shape), e.g. to combine losses.
    public static func addScaled(_ a: Tensor, _ b: Tensor, alpha: Float, beta: Float, tape: Tape?) -> Tensor {
        require(a.shape == b.shape, "add: shapes differ: \(a.name ?? "a") \(a.shape) vs \(b.name ?? "b") \(b.shape)")
        let n = a.count
        let y = a.withData { pa in b.withData { pb in
            makeArray(n) { out in
                Parallel.chunks(n, grain: streamingGrain) { r in
                    var i = r.lowerBound
                    while i + 16 <= r.upperBound {
                        Vectorized.store(Vectorized.load(pa + i) * alpha + Vectorized.load(pb + i) * beta, out + i); i += 16
                    }
                    while i < r.upperBound { out[i] = pa[i] * alpha + pb[i] * beta; i += 1 }
                }
            }
        } }
        let out = Tensor(shape: a.shape, data: y, requiresGrad: recording(tape, a, b))
        if out.requiresGrad {
            tape!.record {
                out.grad.withPointer { dy in
                    if a.requiresGrad { a.withGrad { parallelAddScaled($0, dy, alpha, count: n) } }
                    if b.requiresGrad { b.withGrad { parallelAddScaled($0, dy, beta, count: n) } }
                }
            }
        }
        return out
    }

    /// s·x
    public static func scale(_ x: Tensor, by s: Float, tape: Tape?) -> Tensor {
        let n = x.count
        let y = x.withData { px in makeArray(n) { py in
            Parallel.chunks(n, grain: streamingGrain) { r in
                Vectorized.scale(py + r.lowerBound, px + r.lowerBound, by: s, count: r.count)
            }
        } }
        let out = Tensor(shape: x.shape, data: y, requiresGrad: recording(tape, x))
        if out.requiresGrad {
            tape!.record {
                out.grad.withPointer { dy in x.withGrad { parallelAddScaled($0, dy, s, count: n) } }
            }
        }
        return out
    }
}

extension Ops {
    /// dst += s·src, split over workers when large.
    static func parallelAddScaled(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ s: Float, count n: Int) {
        Parallel.chunks(n, grain: streamingGrain) { r in
            Vectorized.addScaled(dst + r.lowerBound, src + r.lowerBound, s, count: r.count)
        }
    }

    /// dst += src, split over workers when large.
    static func parallelAddInPlace(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count n: Int) {
        Parallel.chunks(n, grain: streamingGrain) { r in
            Vectorized.addInPlace(dst + r.lowerBound, src + r.lowerBound, count: r.count)
        }
    }
}
