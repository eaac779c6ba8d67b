import XCTest
@testable import ClozeTensor

final class CosineTests: XCTestCase {
    func testCosineRowsValueAndGradients() {
        var rng = SeededRNG(seed: 21)
        let a = randomTensor([3, 5], &rng), b = randomTensor([3, 5], &rng)
        let c = Ops.cosineRows(a, b, tape: nil)
        XCTAssertEqual(c.shape, [3, 1])
        for r in 0..<3 {
            let x = Array(a.data[(r * 5)..<(r * 5 + 5)]), y = Array(b.data[(r * 5)..<(r * 5 + 5)])
            let dot = zip(x, y).map { Double($0 * $1) }.reduce(0, +)
            let nx = x.map { Double($0 * $0) }.reduce(0, +).squareRoot(), ny = y.map { Double($0 * $0) }.reduce(0, +).squareRoot()
            XCTAssertEqual(Double(c.data[r]), dot / (nx * ny), accuracy: 1e-6)
        }
        for v in Ops.cosineRows(a, a, tape: nil).data { XCTAssertEqual(v, 1, accuracy: 1e-6, "a row with itself") }
        checkGradients([a, b], step: 1e-3) { Ops.cosineRows(a, b, tape: $0) }
    }
}
