import Foundation
import XCTest
import ClozeTensor

/// A JSON fixture written by scripts/make_tensor_fixtures.py (PyTorch reference values).
struct Fixture {
    let root: [String: Any]

    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/tensor")

    /// Loads `name`; a missing or unreadable fixture throws an error that says how to regenerate it.
    static func load(_ name: String) throws -> Fixture {
        let url = directory.appendingPathComponent(name)
        guard let data = try? Data(contentsOf: url),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw FixtureError(message: "missing or unreadable fixture \(url.path); run "
                               + "`/work/venv/bin/python scripts/make_tensor_fixtures.py` from the package root")
        }
        return Fixture(root: obj)
    }

    func sub(_ key: String) throws -> Fixture {
        guard let d = root[key] as? [String: Any] else { throw FixtureError(message: "fixture has no object '\(key)'") }
        return Fixture(root: d)
    }
    func array(_ key: String) throws -> [Any] {
        guard let a = root[key] as? [Any] else { throw FixtureError(message: "fixture has no array '\(key)'") }
        return a
    }
    func number(_ key: String) throws -> Double {
        guard let n = root[key] as? NSNumber else { throw FixtureError(message: "fixture has no number '\(key)'") }
        return n.doubleValue
    }
    func floats(_ key: String) throws -> [Float] {
        if let d = root[key] as? [String: Any], let data = d["data"] as? [NSNumber] { return data.map { $0.floatValue } }
        if let a = root[key] as? [NSNumber] { return a.map { $0.floatValue } }
        throw FixtureError(message: "fixture has no float array '\(key)'")
    }
    func ints(_ key: String) throws -> [Int] {
        guard let a = root[key] as? [NSNumber] else { throw FixtureError(message: "fixture has no int array '\(key)'") }
        return a.map { $0.intValue }
    }
    func tensor(_ key: String, requiresGrad: Bool = true) throws -> Tensor {
        guard let d = root[key] as? [String: Any], let shape = d["shape"] as? [NSNumber] else {
            throw FixtureError(message: "fixture has no tensor '\(key)'")
        }
        return Tensor(shape: shape.map { $0.intValue }, data: try floats(key), requiresGrad: requiresGrad, name: key)
    }
}

struct FixtureError: Error, CustomStringConvertible { let message: String; var description: String { message } }

/// Max-abs-difference assertion with a readable message (index and both values of the worst element).
func assertClose(_ actual: [Float], _ expected: [Float], atol: Float, rtol: Float = 0, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        XCTFail("\(what): \(actual.count) values, expected \(expected.count)", file: file, line: line); return
    }
    for i in 0..<actual.count {
        let tol = atol + rtol * abs(expected[i])
        if !(abs(actual[i] - expected[i]) <= tol) {
            XCTFail("\(what)[\(i)]: \(actual[i]) vs torch \(expected[i]) (tolerance \(tol))", file: file, line: line)
            return
        }
    }
}
