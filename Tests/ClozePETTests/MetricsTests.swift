import XCTest
@testable import ClozePET

/// Against sklearn / scipy / numpy values in Tests/Fixtures/pet/metrics.json.
final class MetricsTests: XCTestCase {
    struct Case: Decodable { var classes: Int; var gold: [Int]; var pred: [Int]; var accuracy: Double; var f1_pos1: Double?; var macro_f1: Double; var mcc: Double }
    struct Reg: Decodable { var x: [Double]; var y: [Double]; var pearson: Double; var spearman: Double }
    struct Runs: Decodable { var values: [Double]; var mean: Double; var std: Double }
    struct Fixture: Decodable { var classification: [Case]; var regression: Reg; var runs: Runs }

    func testAgainstSklearnAndScipy() throws {
        let f = try JSONDecoder().decode(Fixture.self, from: fixture("metrics.json"))
        XCTAssertEqual(f.classification.count, 4)
        for c in f.classification {
            XCTAssertEqual(Metrics.accuracy(predictions: c.pred, gold: c.gold), c.accuracy, accuracy: 1e-12)
            XCTAssertEqual(Metrics.macroF1(predictions: c.pred, gold: c.gold, classes: c.classes), c.macro_f1, accuracy: 1e-12)
            XCTAssertEqual(Metrics.mcc(predictions: c.pred, gold: c.gold, classes: c.classes), c.mcc, accuracy: 1e-12)
            if let f1 = c.f1_pos1 { XCTAssertEqual(Metrics.f1(predictions: c.pred, gold: c.gold, positive: 1), f1, accuracy: 1e-12) }
        }
        XCTAssertEqual(Metrics.pearson(f.regression.x, f.regression.y), f.regression.pearson, accuracy: 1e-12)
        XCTAssertEqual(Metrics.spearman(f.regression.x, f.regression.y), f.regression.spearman, accuracy: 1e-12)
        let ms = Metrics.meanStd(f.runs.values)
        XCTAssertEqual(ms.mean, f.runs.mean, accuracy: 1e-12)
        XCTAssertEqual(ms.std, f.runs.std, accuracy: 1e-12)
    }

    func testExpectedLabelValues() {
        // Row 1: softmax(0, ln 3) = (0.25, 0.75) → 0.25·1 + 0.75·5 = 4; row 2: uniform → 3.
        let v = Metrics.expectedValues([0, Float(log(3.0)), 2, 2], values: [1, 5])
        XCTAssertEqual(v[0], 4, accuracy: 1e-6)
        XCTAssertEqual(v[1], 3, accuracy: 1e-12)
    }

    func testArgmaxFirstMaximumWins() {
        XCTAssertEqual(Metrics.argmaxRows([1, 3, 3, 0, -1, -2], cols: 3), [1, 0])
    }
}
