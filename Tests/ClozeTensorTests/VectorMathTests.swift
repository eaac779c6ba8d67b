import Foundation
import XCTest
import ClozeTensor

/// Accuracy of the SIMD16 exp / erf / tanh against Foundation's Double versions.
final class VectorMathTests: XCTestCase {
    private func worst(_ lo: Float, _ hi: Float, _ n: Int, _ f: (Vectorized.V) -> Vectorized.V,
                       _ ref: (Double) -> Double, relative: Bool) -> (err: Double, at: Float) {
        var w = 0.0, at: Float = 0
        var i = 0
        while i < n {
            var v = Vectorized.V()
            for j in 0..<16 { v[j] = lo + (hi - lo) * Float(i + j) / Float(n) }
            let r = f(v)
            for j in 0..<16 {
                let e = ref(Double(v[j]))
                let err = abs(Double(r[j]) - e) / (relative ? max(abs(e), 1e-30) : 1)
                if err > w { w = err; at = v[j] }
            }
            i += 16
        }
        return (w, at)
    }

    func testExpRelativeError() {
        let r = worst(-87, 88, 200_000, Vectorized.exp, Foundation.exp, relative: true)
        XCTAssertLessThan(r.err, 3e-7, "worst at \(r.at)")
        XCTAssertEqual(Vectorized.exp(Vectorized.V(repeating: -200))[0], 0)
        XCTAssertEqual(Vectorized.exp(Vectorized.V(repeating: 0))[0], 1)
    }

    func testErfAbsoluteError() {
        // The rational form itself is within 6.5e-8; float32 Horner evaluation adds a few ulp of 1.
        let r = worst(-8, 8, 200_000, Vectorized.erf, Foundation.erf, relative: false)
        XCTAssertLessThan(r.err, 5e-7, "worst at \(r.at)")
    }

    func testTanhError() {
        let a = worst(-12, 12, 200_000, Vectorized.tanh, Foundation.tanh, relative: false)
        XCTAssertLessThan(a.err, 3e-7, "worst at \(a.at)")
        let r = worst(-0.7, 0.7, 100_000, Vectorized.tanh, Foundation.tanh, relative: true)
        XCTAssertLessThan(r.err, 3e-7, "worst at \(r.at)")
    }
}
