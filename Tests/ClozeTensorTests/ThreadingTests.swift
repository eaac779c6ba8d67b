import XCTest
@testable import ClozeTensor

/// Work split over `BLASThreads.current` workers (GEMMs, elementwise and row kernels, AdamW, dropout
/// masks) must give bit-identical results for any thread count. Sizes are chosen above every split
/// threshold so the parallel paths really run (the 1-thread run is the serial code the gradient
/// checks and PyTorch fixtures cover).
final class ThreadingTests: XCTestCase {
    /// Transformer-block-like graph + wide cross-entropy + AdamW: outputs, every gradient and the
    /// updated parameters at 2 and 3 threads equal the 1-thread run exactly.
    func testBlockForwardBackwardAndAdamWIdenticalForAnyThreadCount() {
        let saved = BLASThreads.current
        defer { BLASThreads.set(saved) }
        var results: [[Float]] = []
        for threads in [1, 2, 3] {
            BLASThreads.set(threads)
            var rng = SeededRNG(seed: 40)
            let (n, h, f, classes) = (256, 96, 384, 3000)
            let x = randomTensor([n, h], &rng)
            let w1 = randomTensor([f, h], &rng, scale: 0.1), b1 = randomTensor([f], &rng, scale: 0.1)
            let w2 = randomTensor([h, f], &rng, scale: 0.1), b2 = randomTensor([h], &rng, scale: 0.1)
            let gamma = randomTensor([h], &rng), beta = randomTensor([h], &rng)
            let dec = randomTensor([classes, h], &rng, scale: 0.1)
            let params = [x, w1, b1, w2, b2, gamma, beta, dec]
            let targets = (0..<64).map { ($0 * 37) % classes }
            let tape = Tape()
            var drop: SeededRNG? = SeededRNG(seed: 5)
            let inner = Ops.gelu(Ops.linear(x, weight: w1, bias: b1, tape: tape), kind: .erf, tape: tape)
            let ffn = Ops.dropout(Ops.linear(inner, weight: w2, bias: b2, tape: tape), p: 0.1, rng: &drop, tape: tape)
            let y = Ops.layerNorm(Ops.add(ffn, x, tape: tape), gamma: gamma, beta: beta, eps: 1e-12, tape: tape)
            let picked = Ops.gatherRows(Ops.scale(y, by: 0.5, tape: tape), rows: Array(0..<64).map { $0 * 4 }, tape: tape)
            let loss = Ops.crossEntropy(Ops.linear(picked, weight: dec, bias: nil, tape: tape), targets: targets, tape: tape)
            tape.backward(loss)
            var run = y.data + loss.data
            for p in params { run += p.grad! }
            let opt = AdamW(parameters: params, learningRate: 1e-2)
            opt.step()
            for p in params { run += p.data }
            results.append(run)
        }
        XCTAssertEqual(results[0].count, results[1].count)
        XCTAssertTrue(results[0] == results[1], "2 threads differ from 1 thread")
        XCTAssertTrue(results[0] == results[2], "3 threads differ from 1 thread")
    }

    /// Every GEMM shape class the models produce — row- and column-cut, both transposes, edges that are
    /// not multiples of any kernel unroll — gives the same bits at 1, 2, 3 and 4 threads. (This failed
    /// on OpenBLAS's Haswell/Zen kernels while the cut followed the thread count.)
    func testGEMMBitIdenticalForAnyThreadCountAndShape() {
        let saved = BLASThreads.current
        defer { BLASThreads.set(saved) }
        let shapes: [(m: Int, n: Int, k: Int)] = [(256, 96, 384), (96, 3000, 64), (3000, 384, 64), (257, 97, 383),
                                                   (130, 1537, 31), (1111, 129, 45), (64, 4096, 384)]
        for (m, n, k) in shapes {
            for (transA, transB) in [(false, false), (false, true), (true, false), (true, true)] {
                var rng = SeededRNG(seed: UInt64(m * 7 + n * 3 + k))
                let a = randomTensor([m * k], &rng).data, b = randomTensor([k * n], &rng).data
                let c0 = randomTensor([m * n], &rng).data
                var outputs: [[Float]] = []
                for threads in [1, 2, 3, 4] {
                    BLASThreads.set(threads)
                    var c = c0
                    a.withUnsafeBufferPointer { pa in
                        b.withUnsafeBufferPointer { pb in
                            c.withUnsafeMutableBufferPointer { pc in
                                Ops.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.7,
                                         pa.baseAddress!, lda: transA ? m : k, pb.baseAddress!, ldb: transB ? k : n,
                                         beta: 1, pc.baseAddress!, ldc: n)
                            }
                        }
                    }
                    outputs.append(c)
                }
                XCTAssertNotEqual(outputs[0], c0, "GEMM \(m)x\(n)x\(k) wrote nothing")
                for t in 1..<outputs.count {
                    XCTAssertTrue(outputs[t] == outputs[0],
                                  "GEMM \(m)x\(n)x\(k) transA=\(transA) transB=\(transB): \(t + 1) threads differ from 1")
                }
            }
        }
    }

    /// A large dropout mask is filled in parallel chunks; it must equal the sequential definition
    /// (draw j = rng.next() for elements 2j, 2j+1: high 24 bits, then bits 8..31) and leave the
    /// generator where the sequential draws would.
    func testParallelDropoutMaskEqualsSequentialDraws() {
        let saved = BLASThreads.current
        defer { BLASThreads.set(saved) }
        BLASThreads.set(2)
        let n = 100_003, p: Float = 0.3
        let x = Tensor(shape: [n], data: [Float](repeating: 1, count: n))
        var rng: SeededRNG? = SeededRNG(seed: 9)
        let y = Ops.dropout(x, p: p, rng: &rng, tape: nil)
        var reference = SeededRNG(seed: 9)
        let threshold = UInt64((Double(p) * 16_777_216).rounded(.up)), keep = 1 / (1 - p)
        var expected = [Float](repeating: 0, count: n)
        var i = 0
        while i < n {
            let bits = reference.next()
            expected[i] = (bits >> 40) < threshold ? 0 : keep
            if i + 1 < n { expected[i + 1] = ((bits >> 8) & 0xFF_FFFF) < threshold ? 0 : keep }
            i += 2
        }
        XCTAssertTrue(y.data == expected, "parallel dropout mask differs from the sequential draws")
        XCTAssertEqual(rng!.state, reference.state)
    }
}
