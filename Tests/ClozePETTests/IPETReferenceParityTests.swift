import ClozeTensor
import XCTest
@testable import ClozePET

/// iPET's pseudo-labelling against timoschick/pet's own `generate_ipet_train_set`, `eq_div` and set-size
/// formula, run on the same logits (scripts/make_ipet_sampling_fixtures.py → Tests/Fixtures/pet/ipet-sampling.json).
/// Every other model labels (logits_percentage 1.0), so the reference's output is seed-free in everything
/// but the order of a random draw: ensemble probabilities, predicted labels, per-label counts, and — where
/// a label's count equals its candidates — the drawn set itself.
final class IPETReferenceParityTests: XCTestCase {
    struct Model: Decodable { var weight: Float; var logits: [[Float]] }
    struct SetSize: Decodable { var trainCount: Int; var generation: Int; var scaleFactor: Double; var newExamples: Int; var examplesPerLabel: [Int] }
    struct Case: Decodable {
        var model: Int; var examplesPerLabel: [Int]; var nMostLikely: Int
        var predicted: [Int]; var probabilities: [[Float]]; var drawnIndices: [Int]; var drawnLabels: [Int]
    }
    struct Fixture: Decodable { var labels: Int; var models: [Model]; var trainLabels: [Int]; var setSizes: [SetSize]; var cases: [Case] }

    func load() throws -> Fixture { try JSONDecoder().decode(Fixture.self, from: fixture("ipet-sampling.json")) }

    func testSetSizesEqualTheReference() throws {
        let f = try load()
        XCTAssertEqual(f.setSizes.count, 9)
        for s in f.setSizes {
            let new = IPETSampling.newExampleCount(trainCount: s.trainCount, generation: s.generation, scaleFactor: s.scaleFactor)
            XCTAssertEqual(new, s.newExamples, "\(s)")
            let labels = s.trainCount > 0 ? f.trainLabels : []
            XCTAssertEqual(IPETSampling.examplesPerLabel(trainLabels: labels, labelCount: f.labels, newExamples: new),
                           s.examplesPerLabel, "\(s)")
        }
    }

    func testEnsembleCandidatesAndCountsEqualTheReference() throws {
        let f = try load()
        let L = f.labels
        for c in f.cases {
            let others = f.models.indices.filter { $0 != c.model }.map { (logits: f.models[$0].logits.flatMap { $0 }, weight: f.models[$0].weight) }
            let (probs, predicted) = IPETSampling.labelDistribution(others, labelCount: L)
            XCTAssertEqual(predicted, c.predicted, "case model \(c.model)")
            for (i, row) in c.probabilities.enumerated() {
                for l in 0..<L { XCTAssertEqual(probs[i * L + l], row[l], accuracy: 1e-5) }
            }
            var rng = SeededRNG(seed: 7)
            let draw = IPETSampling.draw(others: others, labelCount: L, examplesPerLabel: c.examplesPerLabel,
                                         logitsPercentage: 1.0, nMostLikely: c.nMostLikely, rng: &rng)
            XCTAssertTrue(draw.emptyLabels.isEmpty)
            for l in 0..<L {
                let ours = zip(draw.indices, draw.labels).filter { $0.1 == l }.map(\.0)
                let theirs = zip(c.drawnIndices, c.drawnLabels).filter { $0.1 == l }.map(\.0)
                XCTAssertEqual(ours.count, theirs.count, "model \(c.model) label \(l)")
                let (cands, _) = IPETSampling.candidates(label: l, probs: probs, predicted: predicted, labelCount: L,
                                                         count: c.examplesPerLabel[l], nMostLikely: c.nMostLikely)
                let candidateSet = Set(cands.map(\.index))
                XCTAssertTrue(Set(theirs).isSubset(of: candidateSet), "reference drew outside our candidates")
                XCTAssertTrue(Set(ours).isSubset(of: candidateSet))
                if candidateSet.count == c.examplesPerLabel[l] {   // everything is taken: the set is seed-free
                    XCTAssertEqual(Set(ours), Set(theirs), "model \(c.model) label \(l)")
                }
            }
        }
    }

    /// The fixture has the seed-free cases the comparison above relies on, so it cannot pass vacuously.
    func testFixtureHasSeedFreeDraws() throws {
        let f = try load()
        let exact = f.cases.filter { c in
            (0..<f.labels).allSatisfy { l in
                c.nMostLikely > 0 ? c.examplesPerLabel[l] == c.nMostLikely : c.predicted.filter { $0 == l }.count == c.examplesPerLabel[l]
            }
        }
        XCTAssertEqual(exact.count, 2)
    }

    /// Python's round: 10 others × 0.25 = 2.5 → 2 models, 6 × 0.25 = 1.5 → 2; never 0.
    func testLabellerCountRoundsAsTheReference() {
        XCTAssertEqual(IPETSampling.labellerCount(others: 10, logitsPercentage: 0.25), 2)
        XCTAssertEqual(IPETSampling.labellerCount(others: 6, logitsPercentage: 0.25), 2)
        XCTAssertEqual(IPETSampling.labellerCount(others: 8, logitsPercentage: 0.25), 2)
        XCTAssertEqual(IPETSampling.labellerCount(others: 2, logitsPercentage: 0.25), 1)
        XCTAssertEqual(IPETSampling.labellerCount(others: 14, logitsPercentage: 0.25), 4)
    }
}
