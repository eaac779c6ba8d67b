import ClozeModels
import ClozeTensor
import XCTest
@testable import ClozePET

/// `cloze label --adapter a,b,c`: three LoRA task adapters over tiny BERT labelled in one stacked pass
/// give what three separate passes give; a non-LoRA adapter in the list falls back to separate passes.
final class AdapterPoolLabelerTests: XCTestCase {
    let tiny = packageRoot + "/Tests/Fixtures/models/tiny-bert"

    lazy var vocab: FakeVocab = {
        let v = FakeVocab()
        _ = v.tokenIDs("good bad film plot actor dull fun long short great it was . !")
        return v
    }()

    func pool(_ n: Int) -> Dataset {
        let words = ["good", "bad", "film", "plot", "actor", "dull", "fun", "long", "short", "great"]
        let ex = (0..<n).map { i in
            Example(fields: ["text_a": (0..<(2 + i % 6)).map { words[(i * 7 + $0 * 3) % words.count] }.joined(separator: " ")],
                    label: nil, location: SourceLocation(file: "pool.tsv", line: i + 1))
        }
        var d = Dataset(examples: ex, labels: ["0", "1"], columnNames: ["text_a"], file: "pool.tsv")
        d.fileColumns = ["text_a"]
        return d
    }

    /// A pattern-model directory with cloze-pattern.json and a LoRA (or prompt) adapter with non-zero updates.
    func makeAdapter(_ dir: String, pattern: String, targets: [String], seed: UInt64, prompt: Bool = false) throws -> String {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let verbalizer = dir + "/verbalizer.txt"
        try "0: bad, dull\n1: good\n".write(toFile: verbalizer, atomically: true, encoding: .utf8)
        let info = PatternModelCheckpoint.Info(pattern: pattern, source: "test", verbalizer: verbalizer, labels: ["0", "1"],
                                               seed: 1, repetition: 0, testAccuracy: nil)
        try JSONEncoder().encode(info).write(to: URL(fileURLWithPath: dir + "/" + PatternModelCheckpoint.infoFile))
        let model = try ModelLoader.loadMaskedLM(directory: tiny)
        if prompt {
            model.softPrompt = try SoftPrompt(count: 2, model: model, initialization: .random, seed: seed)
            try PEFTAdapterFile.savePrompt(model, baseModel: tiny, to: dir + "/adapter")
        } else {
            let config = LoRAConfig(rank: 2, alpha: 4, targetModules: targets)
            try LoRA.attach(to: model, config: config, seed: seed)
            var rng = SeededRNG(seed: seed + 100)
            for l in model.linears { if let a = l.adapter as? LoRAAdapter { a.b.data = a.b.data.map { _ in rng.nextUniform() - 0.5 } } }
            try PEFTAdapterFile.saveLoRA(model, config: config, baseModel: tiny, to: dir + "/adapter")
        }
        return dir
    }

    func probabilities(_ path: String) throws -> [[Double]] {
        try TextFile.readBytes(path: path).split(separator: 0x0A).map { line in
            let o = try JSONSerialization.jsonObject(with: Data(line)) as! [String: Any]
            let p = o["probabilities"] as! [String: Any]
            return ["0", "1"].map { (p[$0] as! NSNumber).doubleValue }
        }
    }

    func run(_ dirs: [String], share: Bool, out: String, batchSize: Int = 4) throws -> [[[Double]]] {
        var labeler = AdapterPoolLabeler(modelDirectory: tiny, adapters: try dirs.map { try TaskAdapter(directory: $0, vocabulary: vocab) }, vocabulary: vocab)
        labeler.batchSize = batchSize; labeler.chunkSize = 5; labeler.progress = false; labeler.share = share
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let outputs = dirs.indices.map { "\(out)/\($0).jsonl" }
        let written = try labeler.run(pool: pool(13), outputs: outputs, format: .jsonl)
        XCTAssertEqual(written, [Int](repeating: 13, count: dirs.count))
        return try outputs.map(probabilities)
    }

    func testStackedPassEqualsSeparatePasses() throws {
        let d = tempDir()
        let dirs = [try makeAdapter(d + "/a", pattern: "{text_a} It was [MASK] .", targets: ["query", "value"], seed: 1),
                    try makeAdapter(d + "/b", pattern: "{text_a} [MASK] !", targets: ["key", "dense"], seed: 2),
                    try makeAdapter(d + "/c", pattern: "[MASK] : {text_a}", targets: ["value"], seed: 3) + "/adapter"]   // the adapter/ subdirectory works too
        let shared = try run(dirs, share: true, out: d + "/shared")
        let separate = try run(dirs, share: false, out: d + "/separate", batchSize: 3)
        for k in 0..<3 {
            XCTAssertEqual(shared[k].count, 13)
            for (x, y) in zip(shared[k], separate[k]) { for (p, q) in zip(x, y) { XCTAssertEqual(p, q, accuracy: 1e-5, "adapter \(k)") } }
        }
        // The tasks really differ (each adapter's own pattern and update).
        XCTAssertGreaterThan(zip(shared[0], shared[1]).map { abs($0[0] - $1[0]) }.max()!, 1e-3)
        // A finished output is never overwritten: rerunning into it is refused and leaves it intact.
        XCTAssertThrowsError(try run(dirs, share: true, out: d + "/shared")) { XCTAssertTrue("\($0)".contains("already exists and is complete"), "\($0)") }
        XCTAssertEqual(try probabilities(d + "/shared/0.jsonl"), shared[0])
    }

    func testNonLoRAAdapterFallsBackToSeparatePasses() throws {
        let d = tempDir()
        let dirs = [try makeAdapter(d + "/a", pattern: "{text_a} It was [MASK] .", targets: ["query"], seed: 4),
                    try makeAdapter(d + "/p", pattern: "{text_a} [MASK] .", targets: [], seed: 5, prompt: true)]
        let shared = try run(dirs, share: true, out: d + "/o1")
        let separate = try run(dirs, share: false, out: d + "/o2")
        XCTAssertEqual(shared, separate)
        XCTAssertThrowsError(try TaskAdapter(directory: d + "/missing", vocabulary: vocab))
    }
}
