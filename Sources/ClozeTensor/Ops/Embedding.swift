extension Ops {
    /// Rows of `table` [V, H] at `ids` -> [ids.count, H]. Backward scatter-adds into `table.grad`
    /// (repeated ids accumulate).
    public static func embedding(_ table: Tensor, ids: [Int32], tape: Tape?) -> Tensor {
        require(table.shape.count == 2, "embedding: table \(table.name ?? "") must be [V, H], got \(table.shape)")
        let vocab = table.shape[0], h = table.shape[1], n = ids.count
        for (i, id) in ids.enumerated() where id < 0 || Int(id) >= vocab {
            fatalError("embedding: id \(id) at position \(i) is outside table \(table.name ?? "") of \(vocab) rows")
        }
        let y = table.withData { t in
            makeArray(n * h) { out in
                for (i, id) in ids.enumerated() { (out + i * h).update(from: t + Int(id) * h, count: h) }
            }
        }
        let out = Tensor(shape: [n, h], data: y, requiresGrad: recording(tape, table))
        if out.requiresGrad {
            tape!.record {
                out.grad.withPointer { dy in
                    table.withGrad { dt in
                        for (i, id) in ids.enumerated() { Vectorized.addInPlace(dt + Int(id) * h, dy + i * h, count: h) }
                    }
                }
            }
        }
        return out
    }
}
