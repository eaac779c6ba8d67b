extension Ops {
    /// Row softmax of x [rows, cols] (inference helper, no tape).
    public static func softmaxRows(_ x: [Float], rows: Int, cols: Int) -> [Float] {
        require(x.count == rows * cols, "softmaxRows: \(x.count) values are not \(rows)×\(cols)")
        var y = x
        y.withUnsafeMutableBufferPointer { p in
            for r in 0..<rows { Vectorized.softmaxInPlace(p.baseAddress! + r * cols, count: cols) }
        }
        return y
    }

    /// Row log-softmax of x [rows, cols] (inference helper, no tape).
    public static func logSoftmaxRows(_ x: [Float], rows: Int, cols: Int) -> [Float] {
        require(x.count == rows * cols, "logSoftmaxRows: \(x.count) values are not \(rows)×\(cols)")
        var y = x
        y.withUnsafeMutableBufferPointer { p in
            for r in 0..<rows {
                let row = p.baseAddress! + r * cols
                let logZ = lse(UnsafePointer(row), cols)
                var i = 0
                let z = Vectorized.V(repeating: logZ)
                while i + 16 <= cols { Vectorized.store(Vectorized.load(row + i) - z, row + i); i += 16 }
                while i < cols { row[i] -= logZ; i += 1 }
            }
        }
        return y
    }
}
