import Foundation
import XCTest
@testable import ClozeTensor

/// Finite-difference gradient checks for every op (small random inputs, fixed seeds).
final class GradientCheckTests: XCTestCase {
    func testEmbedding() {
        var rng = SeededRNG(seed: 1)
        let table = randomTensor([5, 7], &rng)
        checkGradients([table]) { Ops.embedding(table, ids: [3, 0, 3, 4], tape: $0) }
    }

    func testAddAddScaledScale() {
        var rng = SeededRNG(seed: 2)
        let a = randomTensor([3, 19], &rng), b = randomTensor([3, 19], &rng)
        checkGradients([a, b]) { Ops.add(a, b, tape: $0) }
        checkGradients([a, b]) { Ops.addScaled(a, b, alpha: 0.3, beta: -1.7, tape: $0) }
        checkGradients([a]) { Ops.scale(a, by: -2.5, tape: $0) }
        checkGradients([a]) { Ops.add(a, a, tape: $0) }  // same tensor twice accumulates
    }

    func testSumMeanWeightedSum() {
        var rng = SeededRNG(seed: 3)
        let a = randomTensor([4, 9], &rng)
        checkGradients([a]) { Ops.sum(a, tape: $0) }
        checkGradients([a]) { Ops.mean(a, tape: $0) }
        let w = (0..<36).map { Float($0) / 10 - 1 }
        checkGradients([a]) { Ops.weightedSum(a, weights: w, tape: $0) }
    }

    func testLinear() {
        var rng = SeededRNG(seed: 4)
        let x = randomTensor([2, 3, 5], &rng), w = randomTensor([4, 5], &rng), b = randomTensor([4], &rng)
        checkGradients([x, w, b]) { Ops.linear(x, weight: w, bias: b, tape: $0) }
        checkGradients([x, w]) { Ops.linear(x, weight: w, bias: nil, tape: $0) }
        XCTAssertEqual(Ops.linear(x, weight: w, bias: b, tape: nil).shape, [2, 3, 4])
    }

    func testMatmulAllTransposes() {
        var rng = SeededRNG(seed: 5)
        for ta in [false, true] {
            for tb in [false, true] {
                let a = randomTensor(ta ? [2, 4, 3] : [2, 3, 4], &rng)  // M=3, K=4
                let b = randomTensor(tb ? [2, 5, 4] : [2, 4, 5], &rng)  // K=4, N=5
                checkGradients([a, b]) { Ops.matmul(a, b, transposeA: ta, transposeB: tb, batch: 2, tape: $0) }
            }
        }
    }

    func testLayerNorm() {
        var rng = SeededRNG(seed: 6)
        let x = randomTensor([3, 21], &rng, scale: 2), g = randomTensor([21], &rng), b = randomTensor([21], &rng)
        checkGradients([x, g, b]) { Ops.layerNorm(x, gamma: g, beta: b, eps: 1e-12, tape: $0) }
        checkGradients([x, g, b]) { Ops.layerNorm(x, gamma: g, beta: b, eps: 1e-5, tape: $0) }
    }

    func testActivations() {
        var rng = SeededRNG(seed: 7)
        let x = randomTensor([3, 23], &rng, scale: 4)
        checkGradients([x]) { Ops.gelu(x, kind: .erf, tape: $0) }
        checkGradients([x]) { Ops.gelu(x, kind: .tanh, tape: $0) }
        checkGradients([x]) { Ops.tanh(x, tape: $0) }
        // Keep ReLU inputs away from the kink at 0.
        let r = Tensor(shape: [2, 17], data: x.data.prefix(34).map { $0 + ($0 >= 0 ? 0.05 : -0.05) }, requiresGrad: true)
        checkGradients([r]) { Ops.relu(r, tape: $0) }
        let small = randomTensor([40], &rng, scale: 0.6)  // tanh's polynomial branch
        checkGradients([small]) { Ops.tanh(small, tape: $0) }
    }

    func testDropout() {
        var rng = SeededRNG(seed: 8)
        let x = randomTensor([4, 18], &rng)
        checkGradients([x]) { tape in
            var r: SeededRNG? = SeededRNG(seed: 77)
            return Ops.dropout(x, p: 0.3, rng: &r, tape: tape)
        }
    }

    func testSelfAttentionWithPadding() {
        var rng = SeededRNG(seed: 9)
        let (b, t, h, d) = (2, 5, 2, 3)
        let q = randomTensor([b * t, h * d], &rng), k = randomTensor([b * t, h * d], &rng), v = randomTensor([b * t, h * d], &rng)
        let mask: [Float] = [1, 1, 1, 1, 1, 1, 1, 1, 0, 0]
        checkGradients([q, k, v]) { tape in
            var none: SeededRNG? = nil
            return Ops.selfAttention(q: q, k: k, v: v, batch: b, seqLen: t, heads: h, keyMask: mask, dropout: 0.1,
                                     rng: &none, tape: tape)
        }
        checkGradients([q, k, v]) { tape in
            var r: SeededRNG? = SeededRNG(seed: 5)
            return Ops.selfAttention(q: q, k: k, v: v, batch: b, seqLen: t, heads: h, keyMask: mask, dropout: 0.2,
                                     rng: &r, tape: tape)
        }
    }

    func testSelfAttentionSameTensorForQKV() {
        var rng = SeededRNG(seed: 14)
        let x = randomTensor([2 * 4, 2 * 3], &rng)
        checkGradients([x]) { tape in
            var none: SeededRNG? = nil
            return Ops.selfAttention(q: x, k: x, v: x, batch: 2, seqLen: 4, heads: 2, keyMask: [1, 1, 1, 1, 1, 1, 0, 0],
                                     dropout: 0, rng: &none, tape: tape)
        }
    }

    func testSelfAttentionSingleAndMultiThreaded() {
        var rng = SeededRNG(seed: 15)
        let (b, t, h, d) = (3, 6, 2, 4)
        let q = randomTensor([b * t, h * d], &rng), k = randomTensor([b * t, h * d], &rng), v = randomTensor([b * t, h * d], &rng)
        let mask: [Float] = (0..<(b * t)).map { $0 % t < 4 + $0 / t ? 1 : 0 }
        let saved = BLASThreads.current
        defer { BLASThreads.set(saved) }
        var results: [[Float]] = []
        for threads in [1, 2] {
            BLASThreads.set(threads)
            var r: SeededRNG? = SeededRNG(seed: 3)
            let tape = Tape()
            let y = Ops.selfAttention(q: q, k: k, v: v, batch: b, seqLen: t, heads: h, keyMask: mask, dropout: 0.2, rng: &r, tape: tape)
            tape.backward(Ops.sum(y, tape: tape))
            results.append(y.data + q.grad! + k.grad! + v.grad!)
            q.zeroGrad(); k.zeroGrad(); v.zeroGrad()
        }
        XCTAssertEqual(results[0], results[1])
    }

    func testSelfAttentionLongRows() {  // t >= 16 exercises the SIMD softmax paths
        var rng = SeededRNG(seed: 10)
        let (b, t, h, d) = (1, 19, 1, 2)
        let q = randomTensor([b * t, h * d], &rng), k = randomTensor([b * t, h * d], &rng), v = randomTensor([b * t, h * d], &rng)
        let mask: [Float] = (0..<19).map { $0 < 17 ? 1 : 0 }
        checkGradients([q, k, v]) { tape in
            var none: SeededRNG? = nil
            return Ops.selfAttention(q: q, k: k, v: v, batch: b, seqLen: t, heads: h, keyMask: mask, dropout: 0,
                                     rng: &none, tape: tape)
        }
    }

    func testGather() {
        var rng = SeededRNG(seed: 11)
        let x = randomTensor([5, 6], &rng)
        checkGradients([x]) { Ops.gatherRows(x, rows: [4, 1, 4], tape: $0) }
        checkGradients([x]) { Ops.gatherColumns(x, columns: [5, 0, 5, 2], tape: $0) }
    }

    func testCrossEntropyWithIgnoredRow() {
        var rng = SeededRNG(seed: 12)
        let x = randomTensor([4, 20], &rng, scale: 3)
        checkGradients([x]) { Ops.crossEntropy(x, targets: [3, -100, 19, 0], tape: $0) }
    }

    func testKLDivergence() {
        var rng = SeededRNG(seed: 13)
        let s = randomTensor([3, 5], &rng, scale: 3)
        let teacher = Ops.softmaxRows(randomTensor([3, 5], &rng, scale: 3).data, rows: 3, cols: 5)
        for scaled in [true, false] {
            checkGradients([s]) {
                Ops.klDivergence(studentLogits: s, teacherProbabilities: teacher, temperature: 2, scaleByTSquared: scaled, tape: $0)
            }
        }
    }

    func testLogSoftmaxPickWithRepeatedRows() {
        var rng = SeededRNG(seed: 14)
        let x = randomTensor([3, 7], &rng, scale: 3)
        checkGradients([x]) { Ops.logSoftmaxPick(x, rows: [0, 2, 0, 1, 2], cols: [6, 0, 6, 3, 1], tape: $0) }
        // Values: log_softmax at the picks.
        let y = Ops.logSoftmaxPick(x, rows: [1], cols: [3], tape: nil)
        let row = Array(x.data[7..<14]), m = row.max()!
        let lse = m + Float(Foundation.log(Double(row.map { Foundation.exp(Double($0 - m)) }.reduce(0, +))))
        XCTAssertEqual(y.data[0], row[3] - lse, accuracy: 1e-5)
    }

    /// Keys outnumber queries (prefix tuning): gradients of q, k, v with padded keys, and with dropout.
    func testAttentionWithLongerKeys() {
        var rng = SeededRNG(seed: 41)
        let (b, t, tk, h) = (2, 3, 5, 2)
        let q = randomTensor([b * t, 4], &rng), k = randomTensor([b * tk, 4], &rng), v = randomTensor([b * tk, 4], &rng)
        let mask: [Float] = [1, 1, 1, 1, 1, 1, 1, 1, 0, 0]
        checkGradients([q, k, v]) {
            var none: SeededRNG? = nil
            return Ops.attention(q: q, k: k, v: v, batch: b, queryLength: t, keyLength: tk, heads: h, keyMask: mask,
                                 dropout: 0, rng: &none, tape: $0)
        }
        checkGradients([q, k, v]) {
            var r: SeededRNG? = SeededRNG(seed: 5)
            return Ops.attention(q: q, k: k, v: v, batch: b, queryLength: t, keyLength: tk, heads: h, keyMask: mask,
                                 dropout: 0.2, rng: &r, tape: $0)
        }
    }

    func testMulSigmoid() {
        var rng = SeededRNG(seed: 42)
        let a = randomTensor([3, 19], &rng, scale: 3), b = randomTensor([3, 19], &rng)
        checkGradients([a, b]) { Ops.mul(a, b, tape: $0) }
        checkGradients([a]) { Ops.mul(a, a, tape: $0) }
        checkGradients([a]) { Ops.sigmoid(a, tape: $0) }
    }

    func testConcatAndPrepend() {
        var rng = SeededRNG(seed: 43)
        let a = randomTensor([2, 5], &rng), b = randomTensor([3, 5], &rng), c = randomTensor([2, 3], &rng)
        checkGradients([a, b]) { Ops.concatRows([a, b, a], tape: $0) }
        checkGradients([a, c]) { Ops.concatColumns([a, c], tape: $0) }
        let prefix = randomTensor([2, 5], &rng), x = randomTensor([6, 5], &rng)
        checkGradients([prefix, x]) { Ops.prependRows(prefix, to: x, batch: 2, seqLen: 3, tape: $0) }
    }
}
