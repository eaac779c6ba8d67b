import Foundation
import XCTest
@testable import ClozeTensor

/// NF4 against bitsandbytes 0.50.2 (CPU backend: `quantize_4bit` / `dequantize_4bit`, blocksize 64,
/// with and without compress_statistics), fixtures from scripts/make_nf4_fixtures.py.
final class NF4Tests: XCTestCase {
    /// The NF4 codebook is bit-exact. The 8-bit dynamic map is rebuilt from its definition; torch's
    /// vectorised linspace rounds some points differently, so 42 of the 256 values differ in the last
    /// bit (≤ 1.3e-7 relative) — the double-quantised scale codes below are still byte-equal.
    func testCodebookAndDynamicMapAreBitsandbytes() throws {
        let fx = try Fixture.load("nf4.json")
        XCTAssertEqual(NF4.code, try fx.floats("nf4Code"))
        assertClose(DynamicQuantization.map, try fx.floats("dynamicMap"), atol: 0, rtol: 2.4e-7, "dynamic map")
    }

    func testEdgeValuesSingleAndDoubleQuantization() throws {
        let edges = try Fixture.load("nf4.json").sub("edges")
        try checkCase(edges, values: try edges.floats("input"), what: "edges")
    }

    /// [64, 320]: 320 blocks, so the double-quantised scales span a full and a partial 256-block.
    func testHashedWeightSingleAndDoubleQuantization() throws {
        let weight = try Fixture.load("nf4.json").sub("weight")
        try checkCase(weight, values: hashedWeight(rows: 64, cols: 320), what: "weight")
    }

    /// Packed codes byte-equal, scales and dequantised values within 1e-6. The double-quantisation
    /// offset is mean(absmax): torch sums float32 in its own order, Cloze in Double, so the offset
    /// may differ by an ulp (allowed 1e-6 relative); the codes are still byte-equal.
    private func checkCase(_ c: Fixture, values: [Float], what: String) throws {
        let shape = try c.ints("shape"), cols = shape.count == 2 ? shape[1] : shape[0], rows = values.count / cols
        let single = try c.sub("single"), double = try c.sub("double")
        let plain = NF4Matrix(quantizing: values, rows: rows, cols: cols, doubleQuantization: false)
        XCTAssertEqual(hex(plain.packed), try single.string("packed"), "\(what): packed codes")
        guard case .plain(let absmax) = plain.scales else { return XCTFail("plain scales expected") }
        XCTAssertEqual(absmax, try single.floats("absmax"), "\(what): absmax")
        assertClose(plain.dequantized(), try single.base64Floats("dequantized"), atol: 1e-6, "\(what) dequantized")

        let compressed = NF4Matrix(quantizing: values, rows: rows, cols: cols, doubleQuantization: true)
        XCTAssertEqual(compressed.packed, plain.packed)
        guard case .double(let codes, let second, let offset) = compressed.scales else { return XCTFail("double scales expected") }
        XCTAssertEqual(hex(codes), try double.string("quantizedAbsmax"), "\(what): quantised absmax codes")
        let torchOffset = Float(try double.number("offset"))
        XCTAssertEqual(offset, torchOffset, accuracy: 1e-6 * abs(torchOffset), "\(what): offset")
        assertClose(second, try double.floats("absmax2"), atol: 0, rtol: 1e-6, "\(what) absmax2")
        let blocks = (values.count + 63) / 64
        assertClose((0..<blocks).map { compressed.scales.absmax($0) }, try double.floats("absmax"), atol: 1e-6, "\(what) dequantized absmax")
        assertClose(compressed.dequantized(), try double.base64Floats("dequantized"), atol: 1e-6, "\(what) double dequantized")
    }

    /// The fixture script's integer-hash weight, in the same float32 operations.
    private func hashedWeight(rows: Int, cols: Int) -> [Float] {
        (0..<(rows * cols)).map { i in
            let h = (UInt64(i) &* 2654435761) % (1 << 32)
            let unit = Float(Int64(h >> 8) - (1 << 23)) / Float(1 << 23)
            return unit * (Float(1 + (i / cols) % 7) / 8)
        }
    }

    private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    // MARK: the NF4 linear op

    /// Forward, dX and db of the NF4 GEMM path equal the dense op on the dequantised weight (tiles
    /// cut the GEMM differently from the dense op, so allow float rounding); shapes with one and with
    /// several row / column tiles, an odd width (blocks straddle rows) and no bias.
    func testNF4LinearMatchesDenseOnDequantizedWeight() {
        var rng = SeededRNG(seed: 5)
        for (n, outF, inF, withBias) in [(3, 5, 37, true), (7, 300, 700, true), (4, 96, 1000, false)] {
            let w = NF4Matrix(quantizing: (0..<(outF * inF)).map { _ in rng.nextUniform() - 0.5 }, rows: outF, cols: inF)
            let dense = Tensor(shape: [outF, inF], data: w.dequantized(), requiresGrad: false)
            let xData = (0..<(n * inF)).map { _ in rng.nextUniform() * 2 - 1 }
            let weights = (0..<(n * outF)).map { _ in rng.nextUniform() - 0.5 }
            let biasData = (0..<outF).map { _ in rng.nextUniform() }
            func run(_ f: (Tensor, Tensor?, Tape) -> Tensor) -> (y: [Float], dx: [Float], db: [Float]?) {
                let x = Tensor(shape: [n, inF], data: xData, requiresGrad: true)
                let b = withBias ? Tensor(shape: [outF], data: biasData, requiresGrad: true) : nil
                let tape = Tape()
                let y = f(x, b, tape)
                tape.backward(Ops.weightedSum(y, weights: weights, tape: tape))
                return (y.data, x.grad!, b?.grad)
            }
            let q = run { Ops.linear($0, nf4: w, bias: $1, tape: $2) }
            let d = run { Ops.linear($0, weight: dense, bias: $1, tape: $2) }
            assertClose(q.y, d.y, atol: 1e-5, rtol: 1e-5, "y [\(outF), \(inF)]")
            assertClose(q.dx, d.dx, atol: 1e-5, rtol: 1e-5, "dx [\(outF), \(inF)]")
            if withBias { assertClose(q.db!, d.db!, atol: 1e-6, "db") }
        }
    }

    /// Frozen means frozen: the op records nothing when only the weight could need a gradient.
    func testNF4LinearRecordsNothingForAFrozenInput() {
        let w = NF4Matrix(quantizing: [Float](repeating: 0.5, count: 64), rows: 8, cols: 8)
        let tape = Tape()
        let y = Ops.linear(Tensor(shape: [2, 8], data: [Float](repeating: 1, count: 16)), nf4: w, bias: nil, tape: tape)
        XCTAssertFalse(y.requiresGrad)
        XCTAssertEqual(tape.count, 0)
        XCTAssertEqual(y.data, [Float](repeating: 4, count: 16))  // 0.5 is its own block absmax: code 1.0 · 0.5, eight of them
    }
}

extension Fixture {
    func string(_ key: String) throws -> String {
        guard let s = root[key] as? String else { throw FixtureError(message: "fixture has no string '\(key)'") }
        return s
    }
    /// Little-endian float32 values stored as base64.
    func base64Floats(_ key: String) throws -> [Float] {
        guard let data = Data(base64Encoded: try string(key)) else { throw FixtureError(message: "'\(key)' is not base64") }
        return data.withUnsafeBytes { raw in (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) } }
    }
}
