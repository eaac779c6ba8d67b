import XCTest
@testable import ClozeTensor

/// Random tensor with values uniform in [-scale, scale) from a fixed seed.
func randomTensor(_ shape: [Int], _ rng: inout SeededRNG, scale: Float = 1, requiresGrad: Bool = true,
                  name: String? = nil) -> Tensor {
    let n = shape.reduce(1, *)
    return Tensor(shape: shape, data: (0..<n).map { _ in (rng.nextUniform() * 2 - 1) * scale },
                  requiresGrad: requiresGrad, name: name)
}

/// Compares the analytic gradient of L = Σ f(inputs)·w (w random, fixed seed) with central differences
/// (loss accumulated in Double) for every element of every input that requires grad.
/// Passes when |analytic - numeric| <= atol + rtol·|numeric| everywhere.
func checkGradients(_ inputs: [Tensor], step: Float = 1e-2, atol: Double = 2e-3, rtol: Double = 1e-2,
                    file: StaticString = #filePath, line: UInt = #line, _ f: (Tape?) -> Tensor) {
    let probe = f(nil)
    var wrng = SeededRNG(seed: 999)
    let w = (0..<probe.count).map { _ in wrng.nextUniform() * 2 - 1 }
    for x in inputs { x.grad = nil }
    let tape = Tape()
    let out = f(tape)
    XCTAssertTrue(out.requiresGrad, "output should require grad", file: file, line: line)
    let loss = Ops.weightedSum(out, weights: w, tape: tape)
    tape.backward(loss)
    func lossValue() -> Double {
        let y = f(nil)
        var s: Double = 0
        for i in 0..<y.count { s += Double(y.data[i]) * Double(w[i]) }
        return s
    }
    var checked = 0, worst = 0.0
    for (k, x) in inputs.enumerated() where x.requiresGrad {
        guard let g = x.grad else { XCTFail("input \(k) got no gradient", file: file, line: line); continue }
        for i in 0..<x.count {
            let orig = x.data[i]
            x.data[i] = orig + step; let xp = x.data[i]; let lp = lossValue()
            x.data[i] = orig - step; let xm = x.data[i]; let lm = lossValue()
            x.data[i] = orig
            let numeric = (lp - lm) / Double(xp - xm)
            let err = abs(Double(g[i]) - numeric)
            worst = max(worst, err / (atol + rtol * abs(numeric)))
            if err > atol + rtol * abs(numeric) {
                XCTFail("input \(k) element \(i): analytic \(g[i]) vs numeric \(numeric)", file: file, line: line)
                return
            }
            checked += 1
        }
    }
    XCTAssertGreaterThan(checked, 0, "nothing was checked", file: file, line: line)
}
