extension Ops {
    /// Floats per dequantised tile (256 KB: stays in L2 while its GEMM reads it).
    static let nf4TileFloats = 1 << 16

    /// y = x·Wᵀ + b with a frozen NF4 weight W [out, in]: tiles of W's rows are dequantised into a
    /// per-worker scratch buffer and multiplied there, so the f32 weight never exists whole.
    /// Backward: dX += dY·W over tiles of W's columns (each tile owns its dX columns); db += colsum(dY);
    /// no weight gradient (NF4 weights are frozen, QLoRA-style). Tiles depend on the sizes only, so
    /// results do not depend on the thread count.
    public static func linear(_ x: Tensor, nf4 weight: NF4Matrix, bias: Tensor?, tape: Tape?) -> Tensor {
        linear(x, frozen: weight, bias: bias, tape: tape)
    }

    /// The same for any frozen compact matrix (NF4, f16).
    public static func linear(_ x: Tensor, frozen weight: any FrozenMatrix, bias: Tensor?, tape: Tape?) -> Tensor {
        let outF = weight.rows, inF = weight.cols
        require(x.lastDim == inF, "linear: input \(x.shape) does not match the frozen weight [\(outF), \(inF)]")
        if let b = bias { require(b.count == outF, "linear: bias \(b.name ?? "") \(b.shape) needs \(outF) values") }
        let n = x.rows
        let y = x.withData { px in makeArray(n * outF) { py in
            if let b = bias { b.withData { pb in for r in 0..<n { (py + r * outF).update(from: pb, count: outF) } } }
            nf4Forward(px, rows: n, weight: weight, beta: bias == nil ? 0 : 1, into: py)
        } }
        let out = Tensor(shape: Array(x.shape.dropLast()) + [outF], data: y, requiresGrad: recording(tape, x, bias))
        if out.requiresGrad {
            tape!.record {
                out.grad.withPointer { dy in
                    if x.requiresGrad { x.withGradForGEMM { dx, beta in nf4InputGradient(dy, rows: n, weight: weight, beta: beta, into: dx) } }
                    if let b = bias, b.requiresGrad { b.withGrad { db in columnSums(dy, rows: n, cols: outF, into: db) } }
                }
            }
        }
        return out
    }

    /// y[:, tile] = beta·y[:, tile] + x·W[tile, :]ᵀ for tiles of W's rows.
    static func nf4Forward(_ x: UnsafePointer<Float>, rows n: Int, weight w: any FrozenMatrix, beta: Float, into y: UnsafeMutablePointer<Float>) {
        let tileRows = Swift.min(w.rows, Swift.max(16, nf4TileFloats / Swift.max(w.cols, 1) / 16 * 16))
        let tiles = (w.rows + tileRows - 1) / tileRows
        withScratch(workers: Parallel.workers(tiles), floats: tileRows * w.cols) { scratch in
            Parallel.forEach(tiles) { t, worker in
                let r = (t * tileRows)..<Swift.min((t + 1) * tileRows, w.rows)
                let tile = scratch + worker * tileRows * w.cols
                w.dequantizeTile(rows: r, columns: 0..<w.cols, into: tile)
                gemm(transA: false, transB: true, m: n, n: r.count, k: w.cols, alpha: 1, x, lda: w.cols, tile, ldb: w.cols,
                     beta: beta, y + r.lowerBound, ldc: w.rows)
            }
        }
    }

    /// dx[:, tile] = beta·dx[:, tile] + dy·W[:, tile] for tiles of W's columns.
    static func nf4InputGradient(_ dy: UnsafePointer<Float>, rows n: Int, weight w: any FrozenMatrix, beta: Float,
                                 into dx: UnsafeMutablePointer<Float>) {
        let tileCols = Swift.min(w.cols, Swift.max(16, nf4TileFloats / Swift.max(w.rows, 1) / 16 * 16))
        let tiles = (w.cols + tileCols - 1) / tileCols
        withScratch(workers: Parallel.workers(tiles), floats: w.rows * tileCols) { scratch in
            Parallel.forEach(tiles) { t, worker in
                let c = (t * tileCols)..<Swift.min((t + 1) * tileCols, w.cols)
                let tile = scratch + worker * w.rows * tileCols
                w.dequantizeTile(rows: 0..<w.rows, columns: c, into: tile)
                gemm(transA: false, transB: false, m: n, n: c.count, k: w.rows, alpha: 1, dy, lda: w.rows, tile, ldb: c.count,
                     beta: beta, dx + c.lowerBound, ldc: w.cols)
            }
        }
    }

    /// Rows `ids` of a frozen table as a new [ids.count, cols] tensor (an embedding lookup; no gradient).
    public static func frozenRows(_ table: any FrozenMatrix, rows ids: [Int]) -> Tensor {
        let w = table.cols
        require(ids.allSatisfy { $0 >= 0 && $0 < table.rows }, "frozenRows: row outside the \(table.rows)-row table")
        let data = makeArray(ids.count * w) { dst in
            Parallel.chunks(ids.count, grain: Swift.max(1, 1 << 14 / Swift.max(w, 1)), align: 1) { r in
                for i in r { table.dequantizeTile(rows: ids[i]..<(ids[i] + 1), columns: 0..<w, into: dst + i * w) }
            }
        }
        return Tensor(shape: [ids.count, w], data: data)
    }

    /// `workers` scratch tiles of `floats` each, freed afterwards.
    static func withScratch(workers: Int, floats: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) {
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, workers * floats))
        defer { buffer.deallocate() }
        body(buffer)
    }
}
