import ClozeModels
import XCTest
@testable import ClozePET

/// `cloze label` machinery on the tiny BERT classifier fixture: resumable output after a simulated
/// kill must equal an uninterrupted run byte for byte; checkpoints round-trip.
final class PoolLabelerTests: XCTestCase {
    func pool(_ n: Int) -> Dataset {
        let words = ["good", "bad", "film", "plot", "actor", "dull", "fun", "long", "short", "great"]
        var ex: [Example] = []
        for i in 0..<n {
            let s = (0..<(3 + i % 5)).map { words[(i * 7 + $0 * 3) % words.count] }.joined(separator: " ")
            ex.append(Example(fields: ["sentence": s + ", \"\(i)\"", "text_a": s, "label": "\(i % 3)"], label: i % 3,
                              location: SourceLocation(file: "pool.tsv", line: i + 2)))
        }
        var d = Dataset(examples: ex, labels: ["0", "1", "2"], columnNames: ["label", "sentence", "text_a"], file: "pool.tsv")
        d.fileColumns = ["sentence", "label"]
        return d
    }

    /// One vocabulary with every pool word's id fixed up front (FakeVocab assigns ids on first sight).
    lazy var vocab: FakeVocab = {
        let v = FakeVocab()
        _ = v.tokenIDs("good bad film plot actor dull fun long short great")
        return v
    }()

    func labeler() throws -> PoolLabeler {
        let loaded = try ModelLoader.load(directory: packageRoot + "/Tests/Fixtures/models/tiny-bert-cls", mlmHead: .ifPresent, classificationLabels: 3)
        var l = PoolLabeler(model: loaded.model, head: loaded.classifier!, labels: ["0", "1", "2"], vocabulary: vocab)
        l.chunkSize = 4; l.batchSize = 3; l.progress = false
        return l
    }

    func testKilledAndRestartedRunEqualsUninterruptedRun() throws {
        for format in [LabelOutputWriter.Format.jsonl, .csv] {
            let dir = tempDir()
            let full = dir + "/full." + format.rawValue, resumed = dir + "/resumed." + format.rawValue
            let r = try labeler().run(pool: pool(23), textColumns: ["text_a"], outputPath: full, format: format)
            XCTAssertEqual(r.written, 23)
            XCTAssertNotNil(r.accuracy)
            // "Killed" after 9 rows with a torn 10th row.
            _ = try labeler().run(pool: { var p = pool(23); p.examples = Array(p.examples.prefix(9)); return p }(),
                                  textColumns: ["text_a"], outputPath: resumed, format: format)
            try FileManager.default.moveItem(atPath: resumed, toPath: resumed + ".partial")
            let h = FileHandle(forWritingAtPath: resumed + ".partial")!
            h.seekToEndOfFile(); h.write(Data((format == .csv ? "\"good bad, \"\"9" : "{\"sentence\":\"go").utf8)); h.closeFile()
            let r2 = try labeler().run(pool: pool(23), textColumns: ["text_a"], outputPath: resumed, format: format)
            XCTAssertEqual(r2.resumedFrom, 9)
            XCTAssertEqual(r2.written, 14)
            // Same rows in the same order (no duplicate, none lost); probabilities equal up to float noise
            // (batches are composed differently after a restart, so the last digits may differ).
            let a = try rows(full, format), b = try rows(resumed, format)
            XCTAssertEqual(a.count, 23)
            XCTAssertEqual(a.map(\.0), b.map(\.0), format.rawValue)
            for (x, y) in zip(a, b) { for (p, q) in zip(x.1, y.1) { XCTAssertEqual(p, q, accuracy: 1e-5) } }
            XCTAssertEqual(r2.accuracy, r.accuracy)
            XCTAssertEqual(try PoolLabeler.predictedLabels(outputPath: full, format: format).count, 23)
        }
    }

    /// (input values + predicted label, probabilities) per row of an output file.
    func rows(_ path: String, _ format: LabelOutputWriter.Format) throws -> [([String], [Double])] {
        let bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        switch format {
        case .csv:
            return try DelimitedReader.records(bytes, delimiter: 0x2C, quoting: true, file: path).dropFirst().map {
                (Array($0.fields.prefix(3)), $0.fields.dropFirst(3).map { Double($0)! })
            }
        case .jsonl:
            return try bytes.split(separator: 0x0A).map { line in
                let o = try JSONSerialization.jsonObject(with: Data(line)) as! [String: Any]
                let p = o["probabilities"] as! [String: Any]
                return ([o["sentence"] as! String, o["label"] as! String, o["predicted_label"] as! String],
                        ["0", "1", "2"].map { ($0 as String, p[$0] as! NSNumber).1.doubleValue })
            }
        }
    }

    func testClassifierCheckpointRoundTrip() throws {
        let l = try labeler()
        let dir = tempDir() + "/clf"
        try ClassifierCheckpoint.save(model: l.model, head: l.head, labels: ["neg", "neu", "pos"], to: dir, tokenizerFrom: packageRoot + "/../shared/models/minilm-l6-mlm")
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/tokenizer.json"))
        let back = try ClassifierCheckpoint.load(directory: dir)
        XCTAssertEqual(back.labels, ["neg", "neu", "pos"])
        let vocab = FakeVocab()
        let b = PlainInput.builder(columns: ["text_a"], vocabulary: vocab, maxLength: 20)
        let f = try PETFeatures.build(pool(6).examples, builder: b)
        let a1 = try SequenceClassifierTrainer(config: PETTrainingConfig(), model: l.model, head: l.head, padID: 0).predict(f, batchSize: 4)
        let a2 = try SequenceClassifierTrainer(config: PETTrainingConfig(), model: back.model, head: back.head, padID: 0).predict(f, batchSize: 4)
        XCTAssertEqual(a1, a2)
        let config = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: dir + "/config.json")!) as! [String: Any]
        XCTAssertEqual(config["architectures"] as? [String], ["BertForSequenceClassification"])
    }
}
