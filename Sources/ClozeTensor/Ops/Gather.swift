extension Ops {
    /// Rows of x [N, H] at `rows` -> [rows.count, H] (mask positions, verbalizer rows of a decoder).
    /// Backward scatter-adds (repeated rows accumulate).
    public static func gatherRows(_ x: Tensor, rows: [Int], tape: Tape?) -> Tensor {
        let h = x.lastDim, n = x.rows
        for (i, r) in rows.enumerated() where r < 0 || r >= n {
            fatalError("gatherRows: row \(r) at position \(i) is outside \(x.name ?? "tensor") \(x.shape)")
        }
        let y = x.withData { px in
            makeArray(rows.count * h) { py in
                for (i, r) in rows.enumerated() { (py + i * h).update(from: px + r * h, count: h) }
            }
        }
        let out = Tensor(shape: [rows.count, h], data: y, requiresGrad: recording(tape, x))
        if out.requiresGrad {
            tape!.record {
                out.grad.withPointer { dy in x.withGrad { dx in
                    for (i, r) in rows.enumerated() { Vectorized.addInPlace(dx + r * h, dy + i * h, count: h) }
                } }
            }
        }
        return out
    }

    /// Columns of x [N, C] at `columns` -> [N, columns.count]. Backward scatter-adds.
    public static func gatherColumns(_ x: Tensor, columns: [Int], tape: Tape?) -> Tensor {
        let c = x.lastDim, n = x.rows, m = columns.count
        for (i, col) in columns.enumerated() where col < 0 || col >= c {
            fatalError("gatherColumns: column \(col) at position \(i) is outside \(x.name ?? "tensor") \(x.shape)")
        }
        let y = x.withData { px in
            makeArray(n * m) { py in
                for r in 0..<n {
                    let xr = px + r * c, yr = py + r * m
                    for (j, col) in columns.enumerated() { yr[j] = xr[col] }
                }
            }
        }
        let out = Tensor(shape: [n, m], data: y, requiresGrad: recording(tape, x))
        if out.requiresGrad {
            tape!.record {
                out.grad.withPointer { dy in x.withGrad { dx in
                    for r in 0..<n {
                        let dxr = dx + r * c, dyr = dy + r * m
                        for (j, col) in columns.enumerated() { dxr[col] += dyr[j] }
                    }
                } }
            }
        }
        return out
    }
}

extension Ops {
    /// x [N, H] with row `rows[i]` replaced by row `sourceRows[i]` of source [S, H] (soft prompt tokens
    /// written over placeholder embeddings). Backward: dSource[sourceRows[i]] += dY[rows[i]]; dX = dY
    /// except the replaced rows, which get nothing.
    public static func replaceRows(_ x: Tensor, rows: [Int], with source: Tensor, sourceRows: [Int], tape: Tape?) -> Tensor {
        let h = x.lastDim, n = x.rows
        require(source.lastDim == h && rows.count == sourceRows.count, "replaceRows: source \(source.shape) / \(sourceRows.count) rows do not fit x \(x.shape) / \(rows.count) rows")
        require(rows.allSatisfy { $0 >= 0 && $0 < n } && sourceRows.allSatisfy { $0 >= 0 && $0 < source.rows },
                "replaceRows: a row is outside x \(x.shape) or source \(source.shape)")
        var y = x.data
        source.withData { ps in y.withUnsafeMutableBufferPointer { py in
            for (r, s) in zip(rows, sourceRows) { (py.baseAddress! + r * h).update(from: ps + s * h, count: h) }
        } }
        let out = Tensor(shape: x.shape, data: y, requiresGrad: recording(tape, x, source))
        if out.requiresGrad {
            tape!.record {
                out.grad.withPointer { dy in
                    if x.requiresGrad {
                        var masked = [Float](UnsafeBufferPointer(start: dy, count: n * h))
                        for r in rows { masked.withUnsafeMutableBufferPointer { ($0.baseAddress! + r * h).update(repeating: 0, count: h) } }
                        masked.withUnsafeBufferPointer { x.accumulateGrad($0) }
                    }
                    if source.requiresGrad {
                        source.withGrad { ds in
                            for (r, s) in zip(rows, sourceRows) { Vectorized.addInPlace(ds + s * h, dy + r * h, count: h) }
                        }
                    }
                }
            }
        }
        return out
    }
}
