import XCTest
@testable import ClozePET

/// The shipped datasets/*.json, patterns/ and verbalizers/ against the real files in ../shared/datasets.
final class ShippedTaskTests: XCTestCase {
    let shipped = ["sst-2", "sst-5", "mr", "cr", "mpqa", "subj", "trec", "rte", "qnli", "mrpc"]
    let userSupplied = ["ag-news", "yelp-polarity", "yelp-full", "yahoo", "mnli", "boolq", "cb"]

    func task(_ n: String) throws -> TaskDescriptor { try TaskDescriptor.load(path: packageRoot + "/datasets/\(n).json") }

    func testSharedDataExists() {
        XCTAssertTrue(FileManager.default.fileExists(atPath: sharedDatasets + "/lmbff_kshot/SST-2/16-42/train.tsv"),
                      "real data missing at \(sharedDatasets) (see the project README)")
    }

    func testAllShippedTasksLoadEverySeedWithBalancedTrainAndDev() throws {
        let testSizes = ["sst-2": 872, "sst-5": 2210, "mr": 2000, "cr": 2000, "mpqa": 2000, "subj": 2000, "trec": 500, "rte": 277, "qnli": 5463, "mrpc": 408]
        for name in shipped {
            let t = try task(name)
            XCTAssertEqual(t.userSupplied, false)
            XCTAssertEqual(t.seeds, [13, 21, 42, 87, 100])
            for seed in t.seeds! {
                for split in ["train", "dev"] {
                    let d = try t.loadSplit(split, seed: seed)
                    XCTAssertEqual(d.examples.count, 16 * t.labels.count, "\(name) \(split) \(seed)")
                    for c in 0..<t.labels.count { XCTAssertEqual(d.examples.filter { $0.label == c }.count, 16, "\(name) \(split) \(seed) class \(c)") }
                }
                let test = try t.loadSplit("test", seed: seed)
                XCTAssertEqual(test.examples.count, testSizes[name], "\(name) test \(seed)")
                XCTAssertTrue(test.examples.allSatisfy { !($0.fields["text_a"] ?? "").isEmpty || name == "cr" }, name)
                if seed == 42 {
                    let prompts = try t.loadPrompts(columns: test.columnNames)
                    XCTAssertFalse(prompts.isEmpty)
                }
            }
        }
    }

    func testHarvardnlpPoolsExcludeEveryTrainDevTestSentence() throws {
        // Pool size after removing the seed's 16-shot train/dev and the full test set (MR has one pool
        // line duplicated in the test set, so 2,065 lines go for 2,064 examples).
        let expected: [String: (pool: Int, removed: Int)] = ["mr": (8597, 2065), "cr": (1706, 2069), "subj": (7936, 2064), "trec": (5243, 209)]
        for (name, want) in expected {
            let t = try task(name)
            let (pool, removed) = try t.loadUnlabeled(seed: 42)
            XCTAssertEqual(pool.examples.count, want.pool, name)
            XCTAssertEqual(removed, want.removed, name)
            let poolKeys = Set(pool.examples.map { PoolExclusion.key($0, slots: ["text_a"]) })
            for split in ["train", "dev", "test"] {
                for e in try t.loadSplit(split, seed: 42).examples {
                    XCTAssertFalse(poolKeys.contains(PoolExclusion.key(e, slots: ["text_a"])), "\(name) \(split): \(e.fields["text_a"]!)")
                }
            }
        }
        XCTAssertEqual(try task("sst-2").loadUnlabeled().pool.examples.count, 67349)
    }

    func testLabelOrdersAgainstData() throws {
        // TREC: LM-BFF's mapping, checked on rows of the real split (0 DESC, 1 ENTY, 2 ABBR, 3 HUM, 4 LOC, 5 NUM).
        let trec = try task("trec").loadSplit("train", seed: 42)
        let text = { (s: String) in trec.examples.first { $0.fields["text_a"] == s }?.label }
        XCTAssertEqual(text("What is DSL ?"), 2)
        XCTAssertEqual(text("Where is Basque country located ?"), 4)
        XCTAssertEqual(try Verbalizer.load(path: packageRoot + "/verbalizers/trec.txt").entries.first { $0.label == "2" }?.words, ["Expression"])
        // MRPC: the BOM-prefixed header column "Quality" is the label.
        let mrpc = try task("mrpc").loadSplit("test", seed: 13)
        XCTAssertEqual(mrpc.examples.filter { $0.label == 1 }.count, 279)
        XCTAssertNotNil(mrpc.examples[0].fields["text_b"])
        let rte = try task("rte").loadSplit("test", seed: 13)
        XCTAssertEqual(rte.examples.filter { $0.label == 0 }.count, 146)  // entailment
    }

    func testUserSuppliedDescriptorsAndAllPatternFilesParse() throws {
        for name in userSupplied {
            let t = try task(name)
            XCTAssertEqual(t.userSupplied, true, name)
            for set in t.prompts {
                let patterns = try PatternParser.load(path: t.resolveRepositoryPath(set.patterns))
                let v = try Verbalizer.load(path: t.resolveRepositoryPath(set.verbalizer))
                XCTAssertEqual(Set(v.labels), Set(t.labels), name)
                let columns = Array((t.format.columns ?? [:]).keys) + (t.format.columnNames ?? []) + ["passage", "question", "premise", "hypothesis"]
                for p in patterns { try p.validate(columns: columns) }
            }
        }
        let ag = try PatternParser.load(path: packageRoot + "/patterns/ag-news.txt")
        XCTAssertEqual(ag.count, 6)
        XCTAssertEqual(ag[5].segments[0].first?.piece, .text("[ Category:"))
        let yelp = try PatternParser.load(path: packageRoot + "/patterns/yelp.txt")
        XCTAssertEqual(yelp.map { $0.segments.count }, [1, 2, 1, 2])
    }

    func testSplitPathAndDescriptorErrors() throws {
        let t = try task("sst-2")
        XCTAssertTrue(try t.splitPath("train", seed: 42).hasSuffix("/shared/datasets/lmbff_kshot/SST-2/16-42/train.tsv"))
        assertPETError(.badTaskDescriptor) { _ = try t.splitPath("train") }
        assertPETError(.badTaskDescriptor) { _ = try t.splitPath("validation", seed: 42) }
        let seedError = assertPETError(.fileNotFound) { _ = try t.splitPath("train", seed: 1) }
        XCTAssertTrue(seedError?.message.contains("seeds 13,21,42,87,100: pass --seeds") == true, seedError?.message ?? "")
        let d = tempDir()
        write("{\"name\": \"x\"}", to: d + "/x.json")
        let e = assertPETError(.badTaskDescriptor) { _ = try TaskDescriptor.load(path: d + "/x.json") }
        XCTAssertTrue(e!.message.contains("missing key"), e!.message)
        write("{\"name\": \"x\", \"format\": {\"kind\": \"xml\"}}", to: d + "/y.json")
        assertPETError(.badTaskDescriptor) { _ = try TaskDescriptor.load(path: d + "/y.json") }
        // Descriptor checks: Pearson needs numeric labels; a pool spec must not clash or name unknown splits.
        // splits, labels and metric are filled in per case.
        func descriptor(splits: String = "\"train\": \"t.tsv\"", labels: String = "\"0\", \"1\"", metric: String = "acc", extra: String = "") -> String {
            """
            {"name": "z", "format": {"kind": "tsv", "columns": {"text_a": "s"}, "labelColumn": "l"}, "splits": {\(splits)},
             "labels": [\(labels)], "prompts": [{"patterns": "p", "verbalizer": "v"}], "metric": "\(metric)"\(extra)}
            """
        }
        write(descriptor(labels: "\"low\", \"high\"", metric: "pearson"), to: d + "/p.json")
        var e2 = assertPETError(.badTaskDescriptor) { _ = try TaskDescriptor.load(path: d + "/p.json") }
        XCTAssertTrue(e2!.message.contains("label 'low' is not a number"), e2!.message)
        write(descriptor(extra: ", \"unlabeled\": {\"path\": \"u.all\", \"exclude\": [\"test\"]}"), to: d + "/u.json")
        e2 = assertPETError(.badTaskDescriptor) { _ = try TaskDescriptor.load(path: d + "/u.json") }
        XCTAssertTrue(e2!.message.contains("names split 'test'"), e2!.message)
        write(descriptor(extra: ", \"unlabeled\": {\"path\": \"u.all\", \"format\": {\"kind\": \"kim-cnn\"}}"), to: d + "/c.json")
        e2 = assertPETError(.badTaskDescriptor) { _ = try TaskDescriptor.load(path: d + "/c.json") }
        XCTAssertTrue(e2!.message.contains("must map the task's slot names [\"text_a\"]"), e2!.message)
        write(descriptor(splits: "\"train\": \"t.tsv\", \"unlabeled\": \"u.tsv\"", extra: ", \"unlabeled\": {\"path\": \"u.all\"}"), to: d + "/b.json")
        e2 = assertPETError(.badTaskDescriptor) { _ = try TaskDescriptor.load(path: d + "/b.json") }
        XCTAssertTrue(e2!.message.contains("keep one"), e2!.message)
        write(descriptor(labels: "\"1\", \"2.5\"", metric: "pearson"), to: d + "/ok.json")
        XCTAssertEqual(try TaskDescriptor.load(path: d + "/ok.json").metric, .pearson)
    }
}
