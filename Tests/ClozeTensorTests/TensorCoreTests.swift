import XCTest
@testable import ClozeTensor

final class TensorCoreTests: XCTestCase {
    func testSeededRNGIsReproducible() {
        var a = SeededRNG(seed: 42), b = SeededRNG(seed: 42), c = SeededRNG(seed: 43)
        let xa = (0..<5).map { _ in a.next() }, xb = (0..<5).map { _ in b.next() }
        XCTAssertEqual(xa, xb)
        XCTAssertNotEqual(xa[0], c.next())
    }
    func testAccumulateGrad() {
        let t = Tensor(shape: [20], data: [Float](repeating: 1, count: 20), requiresGrad: true)
        let d = [Float]((0..<20).map(Float.init))
        d.withUnsafeBufferPointer { t.accumulateGrad($0) }
        d.withUnsafeBufferPointer { t.accumulateGrad($0) }
        XCTAssertEqual(t.grad?[19], 38)
    }
}
