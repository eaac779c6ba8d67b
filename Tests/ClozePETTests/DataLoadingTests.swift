import XCTest
@testable import ClozePET

final class DataLoadingTests: XCTestCase {
    func testCSVQuotingRFC4180() throws {
        let text = "0,plain\r\n1,\"has, comma\"\n\n0,\"say \"\"hi\"\"\"\n1,\"two\nlines\"\n0,unquoted \"quote\" inside\n1,"
        let r = try DelimitedReader.records(Array(text.utf8), delimiter: 0x2C, quoting: true, file: "x.csv")
        XCTAssertEqual(r.map(\.fields), [["0", "plain"], ["1", "has, comma"], ["0", "say \"hi\""], ["1", "two\nlines"],
                                         ["0", "unquoted \"quote\" inside"], ["1", ""]])
        XCTAssertEqual(r.map(\.line), [1, 2, 4, 5, 7, 8])
        var e = assertPETError(.unclosedQuote) { _ = try DelimitedReader.records(Array("0,a\n1,\"open\nmore\n".utf8), delimiter: 0x2C, quoting: true, file: "x.csv") }
        XCTAssertEqual(e?.location, SourceLocation(file: "x.csv", line: 2))
        e = assertPETError(.badQuote) { _ = try DelimitedReader.records(Array("0,\"a\"b\n".utf8), delimiter: 0x2C, quoting: true, file: "x.csv") }
        XCTAssertEqual(e?.location?.line, 1)
    }

    func testTSVWithoutQuotingKeepsQuotes() throws {
        let r = try DelimitedReader.records(Array("a\tb\n\"x\ty\n".utf8), delimiter: 0x09, quoting: false, file: "x.tsv")
        XCTAssertEqual(r.map(\.fields), [["a", "b"], ["\"x", "y"]])
    }

    func testLoaderAliasesLabelsAndLocations() throws {
        let d = tempDir()
        write("\u{FEFF}label\tsentence\n1\tgood film\n0\tbad film\n", to: d + "/a.tsv")
        let fmt = DataFormat(kind: .tsv, columns: ["text_a": "sentence"], labelColumn: "label")
        let ds = try DatasetLoader.load(path: d + "/a.tsv", format: fmt, labels: ["0", "1"])
        XCTAssertEqual(ds.examples.map(\.label), [1, 0])
        XCTAssertEqual(ds.examples[1].fields["text_a"], "bad film")
        XCTAssertEqual(ds.examples[1].location, SourceLocation(file: d + "/a.tsv", line: 3))
        XCTAssertEqual(ds.columnNames, ["label", "sentence", "text_a"])
    }

    func testLoaderErrors() throws {
        let d = tempDir()
        let fmt = DataFormat(kind: .tsv, columns: ["text_a": "sentence"], labelColumn: "label")
        write("sentence\tlabel\nok\t1\nmissing\n", to: d + "/m.tsv")
        var e = assertPETError(.missingColumn) { _ = try DatasetLoader.load(path: d + "/m.tsv", format: fmt, labels: ["0", "1"]) }
        XCTAssertEqual(e?.location, SourceLocation(file: d + "/m.tsv", line: 3))
        XCTAssertTrue(e!.message.contains("missing column 'label'"), e!.message)
        write("sentence\tlabel\na\tb\t1\n", to: d + "/x.tsv")
        assertPETError(.extraColumn) { _ = try DatasetLoader.load(path: d + "/x.tsv", format: fmt, labels: ["0", "1"]) }
        write("sentence\tlabel\n", to: d + "/e.tsv")
        e = assertPETError(.emptyDataset) { _ = try DatasetLoader.load(path: d + "/e.tsv", format: fmt, labels: ["0", "1"]) }
        XCTAssertEqual(e?.location, SourceLocation(file: d + "/e.tsv"))
        write("", to: d + "/z.tsv")
        assertPETError(.emptyDataset) { _ = try DatasetLoader.load(path: d + "/z.tsv", format: fmt, labels: ["0", "1"]) }
        write("sentence\tlabel\ngood\t1\nmeh\t2\n", to: d + "/l.tsv")
        e = assertPETError(.unknownLabel) { _ = try DatasetLoader.load(path: d + "/l.tsv", format: fmt, labels: ["0", "1"]) }
        XCTAssertEqual(e?.location?.line, 3)
        XCTAssertTrue(e!.message.contains("'2'"))
        // Latin-1 "é" (0xE9) on line 3 at byte offset 3 of the line.
        FileManager.default.createFile(atPath: d + "/u.tsv", contents: Data(Array("sentence\tlabel\nok\t1\ncaf".utf8) + [0xE9] + Array("\t0\n".utf8)))
        e = assertPETError(.invalidUTF8) { _ = try DatasetLoader.load(path: d + "/u.tsv", format: fmt, labels: ["0", "1"]) }
        XCTAssertEqual(e?.location, SourceLocation(file: d + "/u.tsv", line: 3, byteOffset: 3))
        XCTAssertTrue(e!.description.contains("u.tsv:3 (byte offset 3)") && e!.message.contains("0xE9"), e!.description)
        assertPETError(.fileNotFound) { _ = try DatasetLoader.load(path: d + "/none.tsv", format: fmt, labels: ["0"]) }
        assertPETError(.badTaskDescriptor) { _ = try DatasetLoader.load(path: d + "/l.tsv", format: DataFormat(kind: .csv, labelColumn: "label"), labels: ["0"]) }
    }

    func testUTF8Validation() throws {
        XCTAssertNil(TextFile.firstInvalidUTF8(Array("héllo €𝄞".utf8), from: 0))
        XCTAssertEqual(TextFile.firstInvalidUTF8([0x61, 0xC0, 0x80], from: 0), 1)        // overlong
        XCTAssertEqual(TextFile.firstInvalidUTF8([0x61, 0xED, 0xA0, 0x80], from: 0), 1)  // surrogate
        XCTAssertEqual(TextFile.firstInvalidUTF8([0x61, 0x62, 0xE2, 0x82], from: 0), 2)  // truncated
        XCTAssertEqual(TextFile.firstInvalidUTF8([0xFF], from: 0), 0)
    }

    func testJSONLAndKimCNN() throws {
        let d = tempDir()
        write("{\"passage\": \"p1\", \"question\": \"q1\", \"label\": true, \"idx\": 0}\n\n{\"passage\": \"p2\", \"question\": \"q2\", \"label\": false, \"idx\": 1}\n", to: d + "/b.jsonl")
        let ds = try DatasetLoader.load(path: d + "/b.jsonl", format: DataFormat(kind: .jsonl, labelColumn: "label"), labels: ["false", "true"])
        XCTAssertEqual(ds.examples.map(\.label), [1, 0])
        XCTAssertEqual(ds.examples[0].fields["idx"], "0")
        XCTAssertEqual(ds.examples[1].location.line, 3)
        write("{\"passage\": \"p1\", \"label\": true}\n{\"passage\": \"p2\"}\n", to: d + "/m.jsonl")
        let e = assertPETError(.missingColumn) { _ = try DatasetLoader.load(path: d + "/m.jsonl", format: DataFormat(kind: .jsonl, columns: ["text_a": "passage"], labelColumn: "label"), labels: ["false", "true"]) }
        XCTAssertEqual(e?.location?.line, 2)
        write("{\"passage\": \n", to: d + "/bad.jsonl")
        assertPETError(.badJSON) { _ = try DatasetLoader.load(path: d + "/bad.jsonl", format: DataFormat(kind: .jsonl, labelColumn: "label"), labels: ["true"]) }
        write("1 a stirring film\n0 apparently reassembled .\n", to: d + "/k.txt")
        let k = try DatasetLoader.load(path: d + "/k.txt", format: DataFormat(kind: .kimCNN, columns: ["text_a": "text"], labelColumn: "label"), labels: ["0", "1"])
        XCTAssertEqual(k.examples.map { $0.fields["text_a"]! }, ["a stirring film", "apparently reassembled ."])
    }

    func testUnlabelledPoolMayOmitLabels() throws {
        let d = tempDir()
        write("sentence\nfoo\nbar\n", to: d + "/p.tsv")
        let ds = try DatasetLoader.load(path: d + "/p.tsv", format: DataFormat(kind: .tsv, columns: ["text_a": "sentence"], labelColumn: "label"),
                                        labels: ["0", "1"], requireLabels: false)
        XCTAssertEqual(ds.examples.map(\.label), [nil, nil])
    }

    func testLatin1FilesAndPoolExclusion() throws {
        let d = tempDir()
        // harvardnlp's rt-polarity.all is Latin-1: 0xE9 is "é". As UTF-8 the same bytes are an error.
        FileManager.default.createFile(atPath: d + "/pool.all", contents: Data([0x31, 0x20, 0x63, 0x6C, 0x69, 0x63, 0x68, 0xE9, 0x73, 0x20, 0x2E, 0x0A]
            + Array("0 a  Stirring film . \n1 another one\n".utf8)))
        let latin = DataFormat(kind: .kimCNN, columns: ["text_a": "text"], encoding: .latin1)
        let pool = try DatasetLoader.load(path: d + "/pool.all", format: latin, labels: ["0", "1"], requireLabels: false)
        XCTAssertEqual(pool.examples.map { $0.fields["text_a"]! }, ["clichés .", "a  Stirring film . ", "another one"])
        XCTAssertEqual(pool.examples.map(\.label), [nil, nil, nil])
        let e = assertPETError(.invalidUTF8) { _ = try DatasetLoader.load(path: d + "/pool.all", format: DataFormat(kind: .kimCNN, columns: ["text_a": "text"]), labels: ["0"], requireLabels: false) }
        XCTAssertEqual(e?.location?.line, 1)
        XCTAssertEqual(e?.location?.byteOffset, 7)

        // Keys ignore case, spacing and ASCII punctuation, and equate any two non-ASCII scalars
        // (LM-BFF's SUBJ test file has cp1251 mojibake where the pool has Latin-1).
        let ex = { (t: String) in Example(fields: ["text_a": t], label: 0, location: SourceLocation(file: "t")) }
        XCTAssertEqual(PoolExclusion.key(ex("A stirring, film!"), slots: ["text_a"]), "astirringfilm")
        XCTAssertEqual(PoolExclusion.key(ex("hйroes"), slots: ["text_a"]), PoolExclusion.key(ex("héroes"), slots: ["text_a"]))
        let r = PoolExclusion.remove([ex("A stirring film."), ex("clichés.")], from: pool.examples, slots: ["text_a"])
        XCTAssertEqual(r.kept.map { $0.fields["text_a"]! }, ["another one"])
        XCTAssertEqual(r.removed, 2)
    }

    func testFewShotSampling() throws {
        var ex: [Example] = []
        for i in 0..<30 { ex.append(Example(fields: ["t": "\(i)"], label: i < 20 ? 0 : 1, location: SourceLocation(file: "d", line: i + 1))) }
        let ds = Dataset(examples: ex, labels: ["neg", "pos"], columnNames: ["t"], file: "d.tsv")
        let a = try FewShotSampler.sample(ds, perClass: 4, seed: 13)
        XCTAssertEqual(a.filter { $0.label == 0 }.count, 4)
        XCTAssertEqual(a.filter { $0.label == 1 }.count, 4)
        XCTAssertEqual(Set(a.map { $0.fields["t"]! }).count, 8)
        XCTAssertEqual(try FewShotSampler.sample(ds, perClass: 4, seed: 13), a)
        XCTAssertNotEqual(try FewShotSampler.sample(ds, perClass: 4, seed: 21).map { $0.fields["t"]! }, a.map { $0.fields["t"]! })
        let e = assertPETError(.kTooLarge) { _ = try FewShotSampler.sample(ds, perClass: 11, seed: 1) }
        XCTAssertTrue(e!.message.contains("class 'pos' has only 10 examples"), e!.message)
    }
}
