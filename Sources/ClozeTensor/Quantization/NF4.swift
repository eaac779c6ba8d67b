/// 4-bit NormalFloat (NF4, Dettmers et al. 2023, QLoRA) as bitsandbytes stores it: the flat tensor is
/// cut into blocks of 64 values, each block is divided by its absmax and every value becomes the index
/// of the nearest of 16 codebook values; two indices per byte, the even element in the high nibble.
/// Quantisation follows bitsandbytes 0.50's CPU backend (`quantize_4bit`, torch.bucketize over the
/// codebook midpoints: a value exactly on a midpoint takes the lower code); parity with it is tested
/// on fixtures written by scripts/make_nf4_fixtures.py.
public enum NF4 {
    public static let blockSize = 64

    /// bitsandbytes' published NF4 codebook (`get_4bit_type("nf4")`): quantiles of N(0, 1) scaled to
    /// [-1, 1], with an exact zero.
    public static let code: [Float] = [
        -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
        -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
        0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
        0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
    ]

    /// (code[i] + code[i+1]) / 2 in Float32 as bitsandbytes computes its bucket bounds; +inf pads the
    /// 16th slot so the 4-step search below never reads past the end.
    static let midpoints: [Float] = (0..<15).map { (code[$0] + code[$0 + 1]) / 2 } + [.infinity]

    /// Every byte's two values (high nibble first): dequantising writes one pair per byte.
    static let pairs: [SIMD2<Float>] = (0..<256).map { SIMD2(code[$0 >> 4], code[$0 & 15]) }

    /// The code of a value already divided by its block's absmax: how many midpoints lie below it.
    @inline(__always)
    static func index(_ v: Float, _ m: UnsafePointer<Float>) -> UInt8 {
        var i = 0
        if v > m[i + 7] { i += 8 }
        if v > m[i + 3] { i += 4 }
        if v > m[i + 1] { i += 2 }
        if v > m[i] { i += 1 }
        return UInt8(i)
    }

    /// Packed codes ((count + 1) / 2 bytes; an odd count's last low nibble codes 0.0, as bitsandbytes
    /// pads) and the per-block absmax.
    public static func quantize(_ x: UnsafeBufferPointer<Float>) -> (packed: [UInt8], absmax: [Float]) {
        let n = x.count, blocks = (n + blockSize - 1) / blockSize
        var packed = [UInt8](repeating: 0, count: (n + 1) / 2)
        var absmax = [Float](repeating: 0, count: blocks)
        midpoints.withUnsafeBufferPointer { m in
            packed.withUnsafeMutableBufferPointer { p in
                absmax.withUnsafeMutableBufferPointer { a in
                    Parallel.chunks(blocks, grain: 256, align: 1) { range in
                        for b in range { a[b] = quantizeBlock(x, block: b, m.baseAddress!, into: p.baseAddress!) }
                    }
                }
            }
        }
        return (packed, absmax)
    }

    /// One block into its bytes (block starts are even, so bytes are never shared between blocks).
    /// Full blocks multiply by the reciprocal absmax, the last partial block divides: bitsandbytes'
    /// float32 arithmetic, which decides values that fall on a midpoint.
    static func quantizeBlock(_ x: UnsafeBufferPointer<Float>, block b: Int, _ m: UnsafePointer<Float>,
                              into packed: UnsafeMutablePointer<UInt8>) -> Float {
        let start = b * blockSize, end = Swift.min(start + blockSize, x.count)
        var absmax: Float = 0
        for i in start..<end { absmax = Swift.max(absmax, Swift.abs(x[i])) }
        let safe = Swift.max(absmax, 1e-38), inverse = 1 / safe, partial = end - start < blockSize
        func scaled(_ i: Int) -> Float {
            guard i < end else { return 0 }  // the padding nibble
            return Swift.min(Swift.max(partial ? x[i] / safe : x[i] * inverse, -1), 1)
        }
        var i = start
        while i < end {
            packed[i / 2] = index(scaled(i), m) << 4 | index(scaled(i + 1), m)
            i += 2
        }
        return absmax
    }

    /// Values start..<start+count of a packed tensor, `scales[b - firstBlock]` being block b's absmax:
    /// code[q] · absmax, one table lookup per byte for the aligned middle of each block.
    @inline(__always)
    static func dequantize(_ packed: UnsafePointer<UInt8>, from start: Int, count: Int, into dst: UnsafeMutablePointer<Float>,
                           scales: UnsafePointer<Float>, firstBlock: Int,
                           _ pairs: UnsafePointer<SIMD2<Float>>, _ code: UnsafePointer<Float>) {
        var i = start
        let end = start + count
        var out = dst
        while i < end {
            let blockEnd = Swift.min((i / blockSize + 1) * blockSize, end)
            let s = scales[i / blockSize - firstBlock]
            if i & 1 == 1 { out.pointee = code[Int(packed[i / 2] & 15)] * s; out += 1; i += 1 }
            let pairCount = (blockEnd - i) / 2
            let raw = UnsafeMutableRawPointer(out)
            for j in 0..<pairCount {
                raw.storeBytes(of: pairs[Int(packed[i / 2 + j])] * s, toByteOffset: 8 * j, as: SIMD2<Float>.self)
            }
            out += 2 * pairCount; i += 2 * pairCount
            if i < blockEnd { out.pointee = code[Int(packed[i / 2] >> 4)] * s; out += 1; i += 1 }
        }
    }
}

/// bitsandbytes' 8-bit dynamic quantisation (`create_dynamic_map(signed=True)`, `quantize_blockwise`),
/// used by NF4's double quantisation to store the block absmax values in one byte each.
public enum DynamicQuantization {
    public static let blockSize = 256

    /// The 256 values of the signed dynamic map (Dettmers 2015): for exponents 10⁻⁶…10⁰, the midpoints
    /// of 2^i + 1 evenly spaced points in [0.1, 1] and their negatives, plus 0 and 1, sorted.
    /// Built the way bitsandbytes builds it in float32 (torch.linspace's two-sided evaluation).
    public static let map: [Float] = {
        let scales: [Double] = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1]
        var values: [Float] = [0, 1]
        for (i, scale) in scales.enumerated() {
            let points = linspace(0.1, 1, count: (1 << i) + 1)
            for j in 0..<(points.count - 1) {
                let mean = (points[j] + points[j + 1]) / 2
                values += [Float(scale) * mean, -(Float(scale) * mean)]
            }
        }
        return values.sorted()
    }()

    /// torch.linspace on float32: the first half counts up from `start`, the second down from `end`.
    static func linspace(_ start: Float, _ end: Float, count: Int) -> [Float] {
        let step = (end - start) / Float(count - 1), half = count / 2
        return (0..<count).map { $0 < half ? start + step * Float($0) : end - step * Float(count - $0 - 1) }
    }

    /// bitsandbytes' CPU kernel rounds through a 65536-bin table of [-1, 1]: bin i holds the code
    /// nearest to -1 + 2i/65535 (the first whose upper midpoint is not below it).
    static let table: [UInt8] = {
        let mids = (0..<255).map { 0.5 * (map[$0] + map[$0 + 1]) }
        var table = [UInt8](repeating: 0, count: 65536), c = 0
        for i in 0..<65536 {
            let v = -1 + (2 * Float(i)) / 65535
            while c < 255 && mids[c] < v { c += 1 }
            table[i] = UInt8(c)
        }
        return table
    }()

    /// Codes and per-256-block absmax of `x`; an all-zero block gets code 0 (its absmax is 0).
    public static func quantize(_ x: [Float]) -> (codes: [UInt8], absmax: [Float]) {
        var codes = [UInt8](repeating: 0, count: x.count), absmax: [Float] = []
        for start in stride(from: 0, to: x.count, by: blockSize) {
            let end = Swift.min(start + blockSize, x.count)
            let a = x[start..<end].reduce(Float(0)) { Swift.max($0, Swift.abs($1)) }
            absmax.append(a)
            guard a != 0 else { continue }
            let inverse = 1 / a
            for i in start..<end {
                let v = Swift.min(Swift.max(x[i] * inverse, -1), 1)
                codes[i] = table[Int(((v + 1) * 0.5) * 65535 + 0.5)]
            }
        }
        return (codes, absmax)
    }

    @inline(__always)
    public static func value(_ code: UInt8, absmax: Float) -> Float { map[Int(code)] * absmax }
}

/// NF4 block scales: plain Float32 absmax, or double-quantised (bitsandbytes `compress_statistics`):
/// absmax − mean(absmax) stored in 8-bit dynamic codes per 256-block, plus the mean (`offset`).
public enum NF4Scales: Sendable, Equatable {
    case plain([Float])
    case double(codes: [UInt8], absmax: [Float], offset: Float)

    /// Double-quantises plain absmax values (offset = their mean, rounded once to Float32).
    public static func compressing(_ absmax: [Float]) -> NF4Scales {
        let offset = Float(absmax.reduce(0.0) { $0 + Double($1) } / Double(Swift.max(absmax.count, 1)))
        let (codes, second) = DynamicQuantization.quantize(absmax.map { $0 - offset })
        return .double(codes: codes, absmax: second, offset: offset)
    }

    /// Block b's absmax as bitsandbytes dequantises it (code · absmax₂ + offset for double quantisation).
    @inline(__always)
    public func absmax(_ b: Int) -> Float {
        switch self {
        case .plain(let a): return a[b]
        case .double(let codes, let second, let offset):
            return DynamicQuantization.value(codes[b], absmax: second[b / DynamicQuantization.blockSize]) + offset
        }
    }

    /// Bytes held (what double quantisation saves: 1 byte per block instead of 4).
    public var byteCount: Int {
        switch self {
        case .plain(let a): return 4 * a.count
        case .double(let codes, let second, _): return codes.count + 4 * second.count + 4
        }
    }
}
