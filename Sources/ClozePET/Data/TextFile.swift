import Foundation

/// Reading user files as UTF-8 with exact error locations.
public enum TextFile {
    /// Reads the whole file; fails on a missing file or invalid UTF-8 (reporting line and byte offset).
    /// A leading UTF-8 byte-order mark is dropped (MRPC's GLUE files start with one).
    public static func readUTF8(path: String) throws -> String {
        let bytes = try readBytes(path: path)
        return try decodeUTF8(bytes, file: path)
    }

    /// Lines of `text` split at LF or CRLF (a CRLF is one Character in Swift, so splitting on "\n" alone misses it).
    public static func lines(_ text: String) -> [Substring] {
        text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
    }

    public static func readBytes(path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw PETError(.fileNotFound, exists ? "cannot read file" : "file not found", at: SourceLocation(file: path))
        }
        return [UInt8](data)
    }

    /// Decodes UTF-8, dropping a BOM; on invalid bytes throws with the 1-based line and the byte offset
    /// of the first bad byte inside that line.
    public static func decodeUTF8(_ bytes: [UInt8], file: String) throws -> String {
        let start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        if let bad = firstInvalidUTF8(bytes, from: start) {
            var line = 1
            var lineStart = 0
            for j in 0..<bad where bytes[j] == 0x0A { line += 1; lineStart = j + 1 }
            throw PETError(.invalidUTF8,
                String(format: "invalid UTF-8 byte 0x%02X: the file must be UTF-8 (re-encode it, e.g. with iconv)", bytes[bad]),
                at: SourceLocation(file: file, line: line, byteOffset: bad - lineStart))
        }
        return bytes.withUnsafeBufferPointer { buf in
            String(decoding: UnsafeBufferPointer(rebasing: buf[start...]), as: UTF8.self)
        }
    }

    /// Latin-1 (ISO 8859-1) bytes as UTF-8: every byte is the Unicode scalar of the same value.
    public static func latin1ToUTF8(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 16)
        for b in bytes {
            if b < 0x80 { out.append(b) } else { out.append(0xC0 | (b >> 6)); out.append(0x80 | (b & 0x3F)) }
        }
        return out
    }

    /// Index of the first byte that is not part of a well-formed UTF-8 sequence, or nil.
    static func firstInvalidUTF8(_ b: [UInt8], from start: Int) -> Int? {
        var i = start
        let n = b.count
        while i < n {
            let c = b[i]
            if c < 0x80 { i += 1; continue }
            var need = 0
            var minNext: UInt8 = 0x80, maxNext: UInt8 = 0xBF
            switch c {
            case 0xC2...0xDF: need = 1
            case 0xE0: need = 2; minNext = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: need = 2
            case 0xED: need = 2; maxNext = 0x9F
            case 0xF0: need = 3; minNext = 0x90
            case 0xF1...0xF3: need = 3
            case 0xF4: need = 3; maxNext = 0x8F
            default: return i
            }
            for k in 1...need {
                guard i + k < n else { return i }
                let x = b[i + k]
                let lo: UInt8 = k == 1 ? minNext : 0x80
                let hi: UInt8 = k == 1 ? maxNext : 0xBF
                if x < lo || x > hi { return i }  // report the sequence's lead byte, as Python does
            }
            i += need + 1
        }
        return nil
    }
}
