extension Ops {
    /// Row blocks stacked: [N₁, C], [N₂, C], ... -> [ΣNᵢ, C]. Backward hands each part its rows.
    public static func concatRows(_ parts: [Tensor], tape: Tape?) -> Tensor {
        require(!parts.isEmpty, "concatRows: no tensors")
        let c = parts[0].lastDim
        require(parts.allSatisfy { $0.lastDim == c }, "concatRows: widths \(parts.map(\.shape)) differ")
        let y = parts.flatMap(\.data)
        let out = Tensor(shape: [y.count / Swift.max(c, 1), c], data: y,
                         requiresGrad: tape != nil && parts.contains { $0.requiresGrad })
        if out.requiresGrad {
            tape!.record {
                out.grad.withPointer { dy in
                    var offset = 0
                    for p in parts {
                        if p.requiresGrad { p.accumulateGrad(UnsafeBufferPointer(start: dy + offset, count: p.count)) }
                        offset += p.count
                    }
                }
            }
        }
        return out
    }

    /// Column blocks side by side: [N, C₁], [N, C₂], ... -> [N, ΣCᵢ] (a bidirectional LSTM's two directions).
    public static func concatColumns(_ parts: [Tensor], tape: Tape?) -> Tensor {
        require(!parts.isEmpty, "concatColumns: no tensors")
        let n = parts[0].rows
        require(parts.allSatisfy { $0.rows == n }, "concatColumns: row counts of \(parts.map(\.shape)) differ")
        let widths = parts.map(\.lastDim), total = widths.reduce(0, +)
        var y = [Float](repeating: 0, count: n * total)
        var start = 0
        for (p, w) in zip(parts, widths) {
            for r in 0..<n { for j in 0..<w { y[r * total + start + j] = p.data[r * w + j] } }
            start += w
        }
        let out = Tensor(shape: [n, total], data: y, requiresGrad: tape != nil && parts.contains { $0.requiresGrad })
        if out.requiresGrad {
            tape!.record {
                out.grad.withPointer { dy in
                    var start = 0
                    for (p, w) in zip(parts, widths) {
                        if p.requiresGrad {
                            p.withGrad { dp in for r in 0..<n { Vectorized.addInPlace(dp + r * w, dy + r * total + start, count: w) } }
                        }
                        start += w
                    }
                }
            }
        }
        return out
    }

    /// prefix [P, C] put before each of the B sequences of x [B*T, C] -> [B*(P+T), C] (prefix tuning's
    /// keys and values, shared by every sequence). Backward: dPrefix = Σ_b of each sequence's first P rows.
    public static func prependRows(_ prefix: Tensor, to x: Tensor, batch: Int, seqLen t: Int, tape: Tape?) -> Tensor {
        let c = x.lastDim, p = prefix.rows
        require(prefix.lastDim == c && x.rows == batch * t, "prependRows: prefix \(prefix.shape) and x \(x.shape) do not fit \(batch)x\(t)")
        let wide = p + t
        let y = prefix.withData { pp in x.withData { px in
            makeArray(batch * wide * c) { py in
                for b in 0..<batch {
                    (py + b * wide * c).update(from: pp, count: p * c)
                    (py + (b * wide + p) * c).update(from: px + b * t * c, count: t * c)
                }
            }
        } }
        let out = Tensor(shape: [batch * wide, c], data: y, requiresGrad: recording(tape, prefix, x))
        if out.requiresGrad {
            tape!.record {
                out.grad.withPointer { dy in
                    if prefix.requiresGrad {
                        prefix.withGrad { dp in for b in 0..<batch { Vectorized.addInPlace(dp, dy + b * wide * c, count: p * c) } }
                    }
                    if x.requiresGrad {
                        x.withGrad { dx in
                            for b in 0..<batch { Vectorized.addInPlace(dx + b * t * c, dy + (b * wide + p) * c, count: t * c) }
                        }
                    }
                }
            }
        }
        return out
    }
}
