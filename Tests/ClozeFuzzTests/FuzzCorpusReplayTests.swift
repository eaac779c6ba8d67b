import ClozeFuzzTargets
import XCTest

/// Every committed seed and regression input (Tests/Fuzz/corpus/TARGET/) runs through its harness:
/// an input that once crashed a parser is a regression test here, without libFuzzer.
final class FuzzCorpusReplayTests: XCTestCase {
    let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/corpus").path

    func testEveryTargetHasASeedCorpusAndReplaysIt() throws {
        var replayed = 0
        for name in FuzzTargets.names {
            let dir = corpus + "/" + name
            let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            XCTAssertFalse(files.isEmpty, "no seed corpus for fuzz target \(name) in \(dir)")
            for f in files.sorted() {
                FuzzTargets.all[name]!([UInt8](FileManager.default.contents(atPath: dir + "/" + f) ?? Data()))
                replayed += 1
            }
        }
        XCTAssertGreaterThanOrEqual(replayed, FuzzTargets.names.count)
    }

    func testTheEncodeHarnessHasItsTokenizers() {
        XCTAssertEqual(FuzzTargets.tokenizers.count, 3)
    }
}
