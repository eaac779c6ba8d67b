extension Ops {
    /// Row-wise cosine similarity of a [B, D] and b [B, D] → [B, 1] (SetFit's CosineSimilarityLoss).
    /// With c = a·b / (|a||b|): dA += dY (b / (|a||b|) − c a / |a|²), dB likewise with a and b swapped.
    public static func cosineRows(_ a: Tensor, _ b: Tensor, tape: Tape?) -> Tensor {
        require(a.shape == b.shape && a.shape.count == 2, "cosineRows: shapes \(a.shape) and \(b.shape) must be equal [B, D]")
        let rows = a.shape[0], d = a.shape[1]
        var na = [Float](repeating: 0, count: rows), nb = na
        let y: [Float] = a.withData { pa in b.withData { pb in
            (0..<rows).map { r in
                na[r] = max(Vectorized.dot(pa + r * d, pa + r * d, count: d).squareRoot(), 1e-8)
                nb[r] = max(Vectorized.dot(pb + r * d, pb + r * d, count: d).squareRoot(), 1e-8)
                return Vectorized.dot(pa + r * d, pb + r * d, count: d) / (na[r] * nb[r])
            }
        } }
        let out = Tensor(shape: [rows, 1], data: y, requiresGrad: recording(tape, a, b))
        if out.requiresGrad {
            tape!.record {
                let dy = out.grad!
                a.withData { pa in b.withData { pb in
                    if a.requiresGrad { a.withGrad { da in cosineGrad(da, pb, pa, y, dy, nb, na, rows, d) } }
                    if b.requiresGrad { b.withGrad { db in cosineGrad(db, pa, pb, y, dy, na, nb, rows, d) } }
                } }
            }
        }
        return out
    }

    /// dX += dY (other / (|x||other|) − c x / |x|²) per row.
    static func cosineGrad(_ dx: UnsafeMutablePointer<Float>, _ other: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ c: [Float],
                           _ dy: [Float], _ nOther: [Float], _ nx: [Float], _ rows: Int, _ d: Int) {
        for r in 0..<rows {
            Vectorized.addScaled(dx + r * d, other + r * d, dy[r] / (nx[r] * nOther[r]), count: d)
            Vectorized.addScaled(dx + r * d, x + r * d, -dy[r] * c[r] / (nx[r] * nx[r]), count: d)
        }
    }
}
