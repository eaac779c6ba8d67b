import Foundation
import XCTest
@testable import ClozePET

/// Package root, from this file's path (Tests/ClozePETTests/TestSupport.swift).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
let sharedDatasets = packageRoot + "/../shared/datasets"

func fixture(_ name: String) throws -> Data {
    let path = packageRoot + "/Tests/Fixtures/pet/" + name
    guard let d = FileManager.default.contents(atPath: path) else {
        XCTFail("missing fixture \(path): run `/work/venv/bin/python scripts/make_pet_fixtures.py` from the package root")
        throw PETError(.fileNotFound, "missing fixture", at: SourceLocation(file: path))
    }
    return d
}

/// Asserts that `body` throws a PETError with `code`, and returns it for further checks.
@discardableResult
func assertPETError(_ code: PETError.Code, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) -> PETError? {
    do {
        try body()
        XCTFail("expected error \(code), nothing thrown", file: file, line: line)
    } catch let e as PETError {
        XCTAssertEqual(e.code, code, "wrong error: \(e)", file: file, line: line)
        return e
    } catch {
        XCTFail("expected PETError \(code), got \(error)", file: file, line: line)
    }
    return nil
}

func tempDir() -> String {
    let d = NSTemporaryDirectory() + "cloze-pet-tests-" + UUID().uuidString
    try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

func write(_ s: String, to path: String) { FileManager.default.createFile(atPath: path, contents: Data(s.utf8)) }

/// A tiny tokenizer: words and single punctuation characters; ids assigned on first sight (stable
/// within one instance). `bpe` mode marks a word that follows a space with "Ġ" (byte-level BPE style);
/// `splits` breaks listed words into several pieces (to exercise multi-token verbalizer errors).
final class FakeVocab: TokenVocabulary {
    let bpe: Bool
    var splits: [String: [String]] = [:]
    private(set) var ids: [String: Int32] = ["[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4]
    private(set) var strings: [String] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    init(bpe: Bool = false) { self.bpe = bpe }

    func tokenize(_ text: String) -> [String] {
        var out: [String] = []
        var word = ""
        var spaced = false
        func flush() {
            guard !word.isEmpty else { return }
            let pieces = splits[word] ?? [word]
            for (i, p) in pieces.enumerated() { out.append(i == 0 && bpe && spaced ? "Ġ" + p : p) }
            word = ""; spaced = false
        }
        for u in text.unicodeScalars {
            if u == " " { flush(); spaced = true; continue }
            if CharacterSet.punctuationCharacters.contains(u) {
                flush(); out.append(bpe && spaced ? "Ġ" + String(u) : String(u)); spaced = false; continue
            }
            word.unicodeScalars.append(u)
        }
        flush()
        return out
    }
    func id(_ t: String) -> Int32 {
        if let i = ids[t] { return i }
        let i = Int32(strings.count); ids[t] = i; strings.append(t); return i
    }
    func tokenIDs(_ text: String) -> [Int32] { tokenize(text).map(id) }
    func decode(_ ids: [Int32]) -> [String] { ids.map { strings[Int($0)] } }
    var maskTokenID: Int32 { 4 }
    var unknownTokenID: Int32? { 1 }
    var layout = SpecialTokenLayout.bert(cls: 2, sep: 3, pad: 0)
    var specialTokens: SpecialTokenLayout { layout }
    func tokenString(_ id: Int32) -> String? { id >= 0 && Int(id) < strings.count ? strings[Int(id)] : nil }
}

/// The bert-base-uncased tokenizer of the shared MiniLM model (fails the test when it is missing).
func sharedModelVocabulary() throws -> TokenizerVocabulary {
    let dir = packageRoot + "/../shared/models/minilm-l6-mlm"
    guard FileManager.default.fileExists(atPath: dir + "/tokenizer.json") else {
        XCTFail("shared model missing at \(dir) (see the project README)")
        throw PETError(.fileNotFound, "missing model", at: SourceLocation(file: dir))
    }
    return try TokenizerVocabulary.load(directory: dir)
}
