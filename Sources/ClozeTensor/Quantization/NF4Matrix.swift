/// A frozen [rows, cols] matrix kept in a compact form and expanded to f32 a tile at a time (the GEMM
/// path in `Ops.linear(_:frozen:bias:tape:)`, row gathers in `Ops.frozenRows`).
public protocol FrozenMatrix: AnyObject, Sendable {
    var rows: Int { get }
    var cols: Int { get }
    /// Rows r, columns c as a dense row-major [r.count, c.count] tile.
    func dequantizeTile(rows r: Range<Int>, columns c: Range<Int>, into dst: UnsafeMutablePointer<Float>)
}

extension FrozenMatrix {
    /// Every value as f32 [rows, cols] (saving, tests).
    public func expanded() -> [Float] {
        Ops.makeArray(rows * cols) { dequantizeTile(rows: 0..<rows, columns: 0..<cols, into: $0) }
    }
}

/// A frozen matrix in IEEE half precision (f16): the compact word-embedding table of an NF4 model
/// (QLoRA keeps embeddings in 16-bit; f16 keeps 11 significant bits, like the bf16 QLoRA uses).
public final class HalfMatrix: FrozenMatrix, Sendable {
    public let rows: Int
    public let cols: Int
    public let values: [Float16]

    public init(rounding values: [Float], rows: Int, cols: Int) {
        require(values.count == rows * cols, "HalfMatrix: [\(rows), \(cols)] needs \(rows * cols) values, got \(values.count)")
        self.rows = rows; self.cols = cols
        self.values = values.map { Float16($0) }
    }

    public func dequantizeTile(rows r: Range<Int>, columns c: Range<Int>, into dst: UnsafeMutablePointer<Float>) {
        values.withUnsafeBufferPointer { v in
            for (i, row) in r.enumerated() {
                let src = v.baseAddress! + row * cols + c.lowerBound, out = dst + i * c.count
                for j in 0..<c.count { out[j] = Float(src[j]) }
            }
        }
    }
}

/// A frozen [rows, cols] weight (PyTorch layout [out, in]) stored as NF4: packed 4-bit codes of the
/// row-major flat tensor and its block scales, as `bitsandbytes.functional.quantize_4bit(blocksize=64,
/// quant_type="nf4")` stores it. About 4.1 bits per value with double-quantised scales. Never trained:
/// `Ops.linear(_:nf4:bias:tape:)` dequantises tiles on the fly and gives no weight gradient.
public final class NF4Matrix: FrozenMatrix, Sendable {
    public let rows: Int
    public let cols: Int
    /// (rows·cols + 1) / 2 bytes; element 2k in the high nibble of byte k.
    public let packed: [UInt8]
    public let scales: NF4Scales

    public init(rows: Int, cols: Int, packed: [UInt8], scales: NF4Scales) {
        let blocks = (rows * cols + NF4.blockSize - 1) / NF4.blockSize
        require(packed.count == (rows * cols + 1) / 2, "NF4Matrix: [\(rows), \(cols)] needs \((rows * cols + 1) / 2) packed bytes, got \(packed.count)")
        switch scales {
        case .plain(let a): require(a.count == blocks, "NF4Matrix: \(blocks) blocks need as many scales, got \(a.count)")
        case .double(let codes, let second, _):
            require(codes.count == blocks && second.count == (blocks + DynamicQuantization.blockSize - 1) / DynamicQuantization.blockSize,
                    "NF4Matrix: \(blocks) blocks need as many scale codes and one absmax per 256 of them")
        }
        self.rows = rows; self.cols = cols; self.packed = packed; self.scales = scales
    }

    /// Quantises `values` (row-major [rows, cols]); `doubleQuantization` compresses the scales too.
    public convenience init(quantizing values: [Float], rows: Int, cols: Int, doubleQuantization: Bool = true) {
        require(values.count == rows * cols, "NF4Matrix: [\(rows), \(cols)] needs \(rows * cols) values, got \(values.count)")
        let (packed, absmax) = values.withUnsafeBufferPointer { NF4.quantize($0) }
        self.init(rows: rows, cols: cols, packed: packed, scales: doubleQuantization ? .compressing(absmax) : .plain(absmax))
    }

    public var count: Int { rows * cols }
    /// Bytes of storage (codes and scales).
    public var byteCount: Int { packed.count + scales.byteCount }

    /// Flat values start..<start+count into `dst`.
    public func dequantize(from start: Int, count: Int, into dst: UnsafeMutablePointer<Float>) {
        guard count > 0 else { return }
        let first = start / NF4.blockSize, last = (start + count - 1) / NF4.blockSize
        var blockScales = [Float](repeating: 0, count: last - first + 1)
        for b in first...last { blockScales[b - first] = scales.absmax(b) }
        packed.withUnsafeBufferPointer { p in blockScales.withUnsafeBufferPointer { s in
            NF4.pairs.withUnsafeBufferPointer { pairs in NF4.code.withUnsafeBufferPointer { code in
                NF4.dequantize(p.baseAddress!, from: start, count: count, into: dst, scales: s.baseAddress!, firstBlock: first,
                               pairs.baseAddress!, code.baseAddress!)
            } }
        } }
    }

    /// Every value (for saving, merging and tests; the GEMM path never builds this).
    public func dequantized() -> [Float] {
        Ops.makeArray(count) { dst in
            Parallel.chunks(rows, grain: Swift.max(1, 1 << 16 / Swift.max(cols, 1)), align: 1) { r in
                dequantize(from: r.lowerBound * cols, count: r.count * cols, into: dst + r.lowerBound * cols)
            }
        }
    }

    /// Rows r of [rows, cols] columns c into a dense [r.count, c.count] tile.
    public func dequantizeTile(rows r: Range<Int>, columns c: Range<Int>, into dst: UnsafeMutablePointer<Float>) {
        if c.count == cols { return dequantize(from: r.lowerBound * cols, count: r.count * cols, into: dst) }
        for (i, row) in r.enumerated() { dequantize(from: row * cols + c.lowerBound, count: c.count, into: dst + i * c.count) }
    }
}
