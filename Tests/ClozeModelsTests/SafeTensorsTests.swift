import Foundation
import XCTest
@testable import ClozeModels

/// The safetensors reader: dtype conversion against torch's values, and every malformed-file
/// case throws a clear error naming the file/tensor/offset (never a crash).
final class SafeTensorsTests: XCTestCase {
    func testF32F16BF16MatchTorch() throws {
        let file = try SafeTensorsFile(path: Fixtures.path("dtypes/dtypes.safetensors"))
        let expected = try Fixtures.json("dtypes/dtypes.json")
        XCTAssertEqual(file.metadata["note"], "fixture")
        XCTAssertEqual(Set(file.names), Set(expected.keys))
        for (name, value) in expected {
            let e = value as! [String: Any]
            XCTAssertEqual(file.entries[name]!.shape, Fixtures.ints(e["shape"]), name)
            let want = Fixtures.floats(e["values"])
            let got = try file.floats(name)
            XCTAssertEqual(got.count, want.count, name)
            for i in want.indices { XCTAssertEqual(got[i].bitPattern == want[i].bitPattern || got[i] == want[i], true, "\(name)[\(i)]: \(got[i]) vs \(want[i])") }
        }
    }

    /// All 65536 half bit patterns through the SIMD path equal the scalar reference (Float16).
    func testF16ConversionIsExactForEveryBitPattern() {
        let bits = (0..<65536).map { UInt16($0) }
        var out = [Float](repeating: 0, count: bits.count)
        bits.withUnsafeBytes { src in out.withUnsafeMutableBufferPointer { HalfConversion.f16ToFloat(src.baseAddress!, $0.baseAddress!, count: bits.count) } }
        for (i, b) in bits.enumerated() {
            let ref = Float(Float16(bitPattern: b))
            if ref.isNaN { XCTAssertTrue(out[i].isNaN, "\(b)") } else if out[i] != ref { XCTFail("half \(b): \(out[i]) vs \(ref)"); return }
        }
    }

    func testWriterRoundTrip() throws {
        let path = tmp("roundtrip.safetensors")
        try SafeTensorsWriter.write([("a", [2, 3], [1, 2, 3, 4, 5, 6]), ("b.c", [1], [-7.5])], to: path)
        let f = try SafeTensorsFile(path: path)
        XCTAssertEqual(try f.floats("a"), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try f.floats("b.c"), [-7.5])
        XCTAssertEqual(f.metadata["format"], "pt")
    }

    // MARK: malformed files

    func tmp(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("cloze-st-\(getpid())-\(name)").path
    }

    /// A file with `header` as its JSON header and `dataBytes` bytes of data.
    func write(_ header: String, dataBytes: Int, declaredLength: UInt64? = nil, name: String) -> String {
        var d = Data()
        let h = Data(header.utf8)
        withUnsafeBytes(of: (declaredLength ?? UInt64(h.count)).littleEndian) { d.append(contentsOf: $0) }
        d.append(h)
        d.append(Data(repeating: 0, count: dataBytes))
        let p = tmp(name)
        _ = FileManager.default.createFile(atPath: p, contents: d)
        return p
    }

    func assertThrows(_ path: String, _ fragments: [String], read tensor: String? = nil, line: UInt = #line) {
        do {
            let f = try SafeTensorsFile(path: path)
            if let tensor { _ = try f.floats(tensor) }
            XCTFail("no error for \(path)", line: line)
        } catch {
            let message = "\(error)"
            XCTAssertTrue(message.contains(path), "error does not name the file: \(message)", line: line)
            for frag in fragments { XCTAssertTrue(message.contains(frag), "'\(frag)' not in: \(message)", line: line) }
        }
    }

    func testHeaderLengthBeyondFile() {
        assertThrows(write("{}", dataBytes: 0, declaredLength: 5000, name: "long"), ["header length 5000", "byte offset 0"])
    }

    func testTooShortFile() {
        let p = tmp("short"); _ = FileManager.default.createFile(atPath: p, contents: Data([1, 2, 3]))
        assertThrows(p, ["3 bytes"])
    }

    func testMalformedJSON() {
        assertThrows(write("{\"a\": {\"dtype\": \"F32\", ", dataBytes: 0, name: "json"), ["not valid", "byte offset 8"])
        assertThrows(write("{\"a\": {\"dtype\": \"F32\", \"shape\": [2]}}", dataBytes: 8, name: "nooffsets"), ["data_offsets"])
        assertThrows(write("{\"a\": {\"dtype\": \"F32\", \"shape\": [2.5], \"data_offsets\": [0, 8]}}", dataBytes: 8, name: "fracshape"), ["shape"])
    }

    func testOffsetsNotMatchingShape() {
        assertThrows(write("{\"w\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", dataBytes: 8, name: "size"),
                     ["tensor 'w'", "needs 12"])
    }

    func testOverlappingTensors() {
        let h = "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}"
        assertThrows(write(h, dataBytes: 12, name: "overlap"), ["overlap", "tensor 'b'"])
    }

    func testTruncatedData() {
        assertThrows(write("{\"w\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}", dataBytes: 10, name: "trunc"),
                     ["truncated", "tensor 'w'"])
    }

    func testUnknownAndUnsupportedDtypes() {
        assertThrows(write("{\"w\": {\"dtype\": \"Q4\", \"shape\": [2], \"data_offsets\": [0, 2]}}", dataBytes: 2, name: "unk"),
                     ["unknown dtype 'Q4'", "tensor 'w'"])
        // I64 is valid safetensors (position_ids buffers) but not a float: opening works, reading names the problem.
        let p = write("{\"ids\": {\"dtype\": \"I64\", \"shape\": [2], \"data_offsets\": [0, 16]}}", dataBytes: 16, name: "i64")
        XCTAssertNoThrow(try SafeTensorsFile(path: p))
        assertThrows(p, ["unsupported dtype I64", "tensor 'ids'", "byte offset"], read: "ids")
    }

    func testMissingFile() {
        assertThrows(tmp("does-not-exist"), ["cannot read"])
    }
}

/// Headers whose sizes and offsets sit near Int.max (issue 9): the size/offset arithmetic, the error
/// messages' own included, must not wrap or trap.
extension SafeTensorsTests {
    func testShapeProductOverflowIsAnError() {
        let h = #"{"w": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 16]}}"#
        assertThrows(write(h, dataBytes: 16, name: "shape-overflow"), ["shape [4611686018427387904, 4] of F32 is too large", "tensor 'w'"])
        // Elements fit, bytes do not (× 4).
        let g = #"{"w": {"dtype": "F32", "shape": [3074457345618258603], "data_offsets": [0, 16]}}"#
        assertThrows(write(g, dataBytes: 16, name: "bytes-overflow"), ["is too large"])
    }

    func testZeroDimensionWithHugeOthersIsEmptyNotOverflow() throws {
        let h = #"{"w": {"dtype": "F32", "shape": [4611686018427387904, 8, 0], "data_offsets": [0, 0]}}"#
        let f = try SafeTensorsFile(path: write(h, dataBytes: 0, name: "zero-dim"))
        XCTAssertEqual(try f.floats("w"), [Float]())
        XCTAssertEqual(f.entries["w"]?.elementCount, 0)
    }

    func testOffsetsNearIntMaxAreAnError() {
        let max = Int.max
        let h = "{\"w\": {\"dtype\": \"U8\", \"shape\": [4], \"data_offsets\": [\(max - 4), \(max)]}}"
        assertThrows(write(h, dataBytes: 4, name: "offset-overflow"),
                          ["data ends at byte \(max)", "truncated file", "byte offset \(max)"])
        let e = "{\"w\": {\"dtype\": \"U8\", \"shape\": [4], \"data_offsets\": [\(max), 3]}}"
        assertThrows(write(e, dataBytes: 4, name: "offset-order"), ["not an increasing byte range", "byte offset \(max)"])
    }
}
