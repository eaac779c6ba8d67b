import XCTest
@testable import ClozePET

final class LabelOutputWriterTests: XCTestCase {
    func rows(_ range: Range<Int>) -> [LabelOutputWriter.Row] {
        range.map { i in
            LabelOutputWriter.Row(values: ["sentence \(i), \"quoted\"\nsecond line"], predictedLabel: i % 2 == 0 ? "0" : "1",
                                  probabilities: [0.25, 0.75])
        }
    }

    func testJSONLKillAndResumeHasNoDuplicateOrLostRows() throws {
        let out = tempDir() + "/labels.jsonl"
        var w: LabelOutputWriter? = try LabelOutputWriter(outputPath: out, format: .jsonl, inputColumns: ["sentence"], labels: ["0", "1"])
        try w!.append(rows(0..<3))
        try w!.append(rows(3..<5))
        w = nil  // "killed": no finish()
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        // A torn row from the in-flight batch.
        let partial = LabelOutputWriter.partialPath(for: out)
        let h = FileHandle(forWritingAtPath: partial)!
        h.seekToEndOfFile(); h.write(Data("{\"sentence\":\"sentence 5, ".utf8)); h.closeFile()

        let w2 = try LabelOutputWriter(outputPath: out, format: .jsonl, inputColumns: ["sentence"], labels: ["0", "1"])
        XCTAssertEqual(w2.completedRows, 5)
        try w2.append(rows(5..<8))
        try w2.finish()
        XCTAssertFalse(FileManager.default.fileExists(atPath: partial))
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 8)
        for (i, l) in lines.enumerated() {
            let obj = try JSONSerialization.jsonObject(with: Data(l.utf8)) as! [String: Any]
            XCTAssertEqual(obj["sentence"] as? String, "sentence \(i), \"quoted\"\nsecond line")
            XCTAssertEqual(obj["predicted_label"] as? String, i % 2 == 0 ? "0" : "1")
            let p = obj["probabilities"] as! [String: Any]
            XCTAssertEqual((p["1"] as! NSNumber).doubleValue, 0.75)
        }
        assertPETError(.outputMismatch) { _ = try LabelOutputWriter(outputPath: out, format: .jsonl, inputColumns: ["sentence"], labels: ["0", "1"]) }
    }

    func testCSVTornInsideQuotedFieldAndHeaderCheck() throws {
        let out = tempDir() + "/labels.csv"
        var w: LabelOutputWriter? = try LabelOutputWriter(outputPath: out, format: .csv, inputColumns: ["sentence"], labels: ["0", "1"])
        try w!.append(rows(0..<2))
        w = nil
        let partial = LabelOutputWriter.partialPath(for: out)
        let h = FileHandle(forWritingAtPath: partial)!
        // Torn in the middle of a quoted field that already contains a newline.
        h.seekToEndOfFile(); h.write(Data("\"sentence 2, \"\"quoted\"\"\nsec".utf8)); h.closeFile()
        assertPETError(.outputMismatch) { _ = try LabelOutputWriter(outputPath: out, format: .csv, inputColumns: ["text"], labels: ["0", "1"]) }
        let w2 = try LabelOutputWriter(outputPath: out, format: .csv, inputColumns: ["sentence"], labels: ["0", "1"])
        XCTAssertEqual(w2.completedRows, 2)
        try w2.append(rows(2..<4))
        try w2.finish()
        let recs = try DelimitedReader.records(Array(FileManager.default.contents(atPath: out)!), delimiter: 0x2C, quoting: true, file: out)
        XCTAssertEqual(recs.map(\.fields), [["sentence", "predicted_label", "p_0", "p_1"]] + (0..<4).map {
            ["sentence \($0), \"quoted\"\nsecond line", $0 % 2 == 0 ? "0" : "1", "0.25", "0.75"]
        })
    }

    func testJSONLResumeRejectsDifferentColumns() throws {
        let out = tempDir() + "/l.jsonl"
        var w: LabelOutputWriter? = try LabelOutputWriter(outputPath: out, format: .jsonl, inputColumns: ["sentence"], labels: ["0", "1"])
        try w!.append(rows(0..<1))
        w = nil
        assertPETError(.outputMismatch) { _ = try LabelOutputWriter(outputPath: out, format: .jsonl, inputColumns: ["sentence"], labels: ["neg", "pos"]) }
    }

    func testResultsJSONRoundTrip() throws {
        let p = tempDir() + "/results.json"
        let s = ScoreSummary(runs: [RunScore(seed: 13, accuracy: 0.7, macroF1: 0.69), RunScore(seed: 21, accuracy: 0.8, macroF1: 0.8)])
        XCTAssertEqual(s.accuracyMean, 0.75, accuracy: 1e-12)
        XCTAssertEqual(s.accuracyStd, 0.05, accuracy: 1e-12)
        XCTAssertNil(s.metricMean)
        var timer = PhaseTimer()
        timer.measure("train") { }
        let r = RunResults(task: "sst-2", model: "minilm", k: 16, seeds: [13, 21], metric: "acc",
                           patterns: [PatternResult(pattern: "{text_a} It was [MASK].", source: "patterns/sst-2.txt:3", verbalizer: "verbalizers/sentiment-2.txt", scores: s)],
                           ensembleMean: s, timings: timer.timings)
        try r.write(to: p)
        XCTAssertEqual(try RunResults.read(from: p), r)
        XCTAssertEqual(r.timings.map(\.phase), ["train"])
    }
}
