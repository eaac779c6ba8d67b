import ClozeModels
import XCTest
@testable import ClozePET

/// End-to-end `cloze train` pipeline on the tiny BERT fixture with a small task written to a temp
/// repository (task file, data, pattern, verbalizer): every phase runs and results.json is complete.
final class ExperimentTests: XCTestCase {
    /// A temp repository with a tiny task: data for seeds 1 and 2, a pool, two patterns, a verbalizer.
    static func makeTinyTask() throws -> (root: String, words: [String]) {
        let root = tempDir()
        for d in ["datasets", "patterns", "verbalizers", "data"] {
            try FileManager.default.createDirectory(atPath: root + "/" + d, withIntermediateDirectories: true)
        }
        let words = ["good", "bad", "film", "plot", "fun", "dull"]
        func rows(_ n: Int, offset: Int) -> String {
            (0..<n).map { i in
                let label = (i + offset) % 2
                return "\(label),\(words[label]) \(words[2 + (i % 4)]) \(words[2 + ((i + 1) % 4)])"
            }.joined(separator: "\n") + "\n"
        }
        for seed in [1, 2] {
            try FileManager.default.createDirectory(atPath: root + "/data/s\(seed)", withIntermediateDirectories: true)
            write(rows(8, offset: seed), to: root + "/data/s\(seed)/train.csv")
            write(rows(10, offset: 0), to: root + "/data/s\(seed)/test.csv")
        }
        write(rows(12, offset: 1), to: root + "/data/pool.csv")
        write("# tiny\n{text_a:shorten} It was [MASK].\n[MASK] : {text_a:shorten}\n", to: root + "/patterns/tiny.txt")
        write("0: terrible\n1: great, fine\n", to: root + "/verbalizers/tiny.txt")
        write("""
        {"name": "tiny", "format": {"kind": "csv", "header": false, "columnNames": ["label", "sentence"],
         "columns": {"text_a": "sentence"}, "labelColumn": "label"},
         "splits": {"train": "s{seed}/train.csv", "test": "s{seed}/test.csv", "unlabeled": "pool.csv"},
         "seeds": [1, 2], "labels": ["0", "1"], "prompts": [{"patterns": "patterns/tiny.txt", "verbalizer": "verbalizers/tiny.txt"}],
         "metric": "macro-f1", "maxLength": 16}
        """, to: root + "/datasets/tiny.json")
        return (root, words)
    }

    /// The tiny task and a vocabulary that knows its words.
    static func tinyTaskAndVocabulary() throws -> (root: String, vocabulary: FakeVocab) {
        let (root, words) = try Self.makeTinyTask()
        let vocab = FakeVocab()
        _ = vocab.tokenIDs((words + ["It", "was", ".", ":", "terrible", "great", "fine"]).joined(separator: " "))
        return (root, vocab)
    }

    func testFullPipelineOnTinyModel() throws {
        let (root, words) = try Self.makeTinyTask()
        let task = try TaskDescriptor.load(path: root + "/datasets/tiny.json")
        var o = PETExperimentOptions(modelDirectory: packageRoot + "/Tests/Fixtures/models/tiny-bert", seeds: [1, 2])
        o.dataRoot = root + "/data"
        o.training.maxSteps = 6; o.training.batchSize = 4; o.training.learningRate = 1e-3
        o.unlabeledCount = 10
        o.distillation.maxSteps = 4; o.distillation.batchSize = 4
        o.fineTuning.maxSteps = 4
        o.progress = false
        o.saveDirectory = root + "/out"
        o.savePatternModels = true
        let vocab = FakeVocab()
        _ = vocab.tokenIDs((words + ["It", "was", ".", ":", "terrible", "great", "fine"]).joined(separator: " "))
        var exp = PETExperiment(task: task, options: o, vocabulary: vocab)
        var lines: [String] = []
        exp.log = { lines.append($0) }
        let r = try exp.run()
        XCTAssertEqual(r.patterns.count, 2)
        XCTAssertEqual(r.zeroShot.count, 2)
        XCTAssertEqual(r.patterns.map { $0.scores.runs.map(\.seed) }, [[1, 2], [1, 2]])
        XCTAssertEqual(r.patterns[0].source, root + "/patterns/tiny.txt:2")
        for s in [r.ensembleMean, r.ensembleWeighted, r.finalClassifier, r.fineTuning] {
            XCTAssertEqual(s?.runs.count, 2)
            XCTAssertNotNil(s?.metricMean)   // macro-F1 is the task metric
        }
        XCTAssertEqual(Set(r.timings.map(\.phase)), ["zero-shot", "pattern training", "unlabelled logits", "test evaluation", "distillation", "fine-tuning"])
        XCTAssertTrue(lines.contains { $0.hasPrefix("seed 2 ensemble") }, lines.joined(separator: "\n"))
        // Saved classifiers load back with the task's labels.
        XCTAssertEqual(try ClassifierCheckpoint.load(directory: root + "/out/seed-2/final-classifier").labels, ["0", "1"])
        // Saved pattern models hold the trained weights: reloaded, they score the test set as in the run.
        let saved = root + "/out/seed-2/pattern-1-rep-0"
        let info = try PatternModelCheckpoint.readInfo(directory: saved)
        XCTAssertEqual(info.pattern, "[MASK] : {text_a:shorten}")
        XCTAssertEqual(info.testAccuracy, r.patterns[1].scores.runs[1].accuracy)
        let reloaded = try ModelLoader.loadMaskedLM(directory: saved)
        let original = try ModelLoader.loadMaskedLM(directory: o.modelDirectory)
        let changed = zip(reloaded.parameters, original.parameters).filter { $0.0.tensor.data != $0.1.tensor.data }.count
        XCTAssertGreaterThan(changed, reloaded.parameters.count / 2)
        let pattern = try PatternParser.parseLine(info.pattern, location: SourceLocation(file: "p"))
        let verbalizer = try Verbalizer.load(path: root + "/verbalizers/tiny.txt").resolve(labels: ["0", "1"], vocabulary: vocab)
        let test = try task.loadSplit("test", seed: 2, dataRoot: o.dataRoot)
        let features = try PETFeatures.build(test.examples, builder: PETInputBuilder(pattern: pattern, vocabulary: vocab, maxLength: 16))
        let logits = try PETScorer(model: reloaded, verbalizer: verbalizer).predict(features, batchSize: 4, padID: vocab.specialTokens.padID)
        XCTAssertEqual(Metrics.accuracy(predictions: Metrics.argmaxRows(logits, cols: 2), gold: test.examples.map { $0.label! }), info.testAccuracy)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/out/seed-2/pattern-2-rep-0"))
        try r.write(to: root + "/results.json")
        XCTAssertEqual(try RunResults.read(from: root + "/results.json"), r)
    }

    /// A task given as files, with no test split: every model trains and is saved, nothing is scored.
    func testFilesWithoutTestSplitTrainAndSave() throws {
        let (root, words) = try Self.makeTinyTask()
        let task = try TaskDescriptor.fromFiles(
            splits: ["train": root + "/data/s1/train.csv", "unlabeled": root + "/data/pool.csv"],
            format: DataFormat(kind: .csv, header: false, columnNames: ["label", "sentence"], columns: ["text_a": "sentence"], labelColumn: "label"),
            labels: ["0", "1"], patterns: root + "/patterns/tiny.txt", verbalizer: root + "/verbalizers/tiny.txt", maxLength: 16)
        XCTAssertEqual(task.name, "train")
        var o = PETExperimentOptions(modelDirectory: packageRoot + "/Tests/Fixtures/models/tiny-bert", seeds: [7])
        o.training.maxSteps = 3; o.unlabeledCount = 12; o.distillation.maxSteps = 2; o.fineTuning.maxSteps = 2
        o.progress = false
        o.saveDirectory = root + "/files-out"; o.savePatternModels = true
        let vocab = FakeVocab()
        _ = vocab.tokenIDs((words + ["It", "was", ".", ":", "terrible", "great", "fine"]).joined(separator: " "))
        var exp = PETExperiment(task: task, options: o, vocabulary: vocab)
        exp.log = { _ in }
        let r = try exp.run()
        XCTAssertTrue(r.patterns.isEmpty && r.zeroShot.isEmpty)
        XCTAssertNil(r.ensembleMean); XCTAssertNil(r.finalClassifier); XCTAssertNil(r.fineTuning)
        XCTAssertNil(try PatternModelCheckpoint.readInfo(directory: root + "/files-out/seed-7/pattern-1-rep-0").testAccuracy)
        XCTAssertEqual(try ClassifierCheckpoint.load(directory: root + "/files-out/seed-7/final-classifier").labels, ["0", "1"])
        let missing = assertPETError(.fileNotFound) { _ = try ClassifierCheckpoint.load(directory: root + "/files-out/seed-8/final-classifier") }
        XCTAssertTrue(missing!.message.contains("classifier directory not found"), missing!.message)
        // Descriptor checks apply to command-line tasks too.
        let e = assertPETError(.badTaskDescriptor) {
            _ = try TaskDescriptor.fromFiles(splits: ["train": "t.csv"], format: DataFormat(kind: .csv, columns: ["text_a": "s"], labelColumn: "label"),
                                             labels: ["a", "b"], patterns: "p.txt", verbalizer: "v.txt", metric: .pearson)
        }
        XCTAssertTrue(e!.message.contains("numeric labels"), e!.message)
    }
}
