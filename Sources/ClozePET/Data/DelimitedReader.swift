/// One row of a CSV/TSV file with the 1-based line where it starts.
public struct RawRecord: Sendable, Equatable {
    public var fields: [String]
    public var line: Int
}

/// CSV (RFC 4180 quoting) and TSV (GLUE style: no quoting, split on tabs) over UTF-8 bytes.
///
/// Quoted fields may contain delimiters, `""` and newlines. A `"` inside an unquoted field is kept
/// literally (as pandas does); after a closing quote only a delimiter or end of line may follow.
/// Empty lines are skipped. A trailing `\r` (CRLF files) is dropped.
public enum DelimitedReader {
    public static func records(_ b: [UInt8], delimiter: UInt8, quoting: Bool, file: String) throws -> [RawRecord] {
        var out: [RawRecord] = []
        let n = b.count
        var i = b.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var line = 1
        let quote: UInt8 = 0x22, nl: UInt8 = 0x0A, cr: UInt8 = 0x0D
        func str(_ lo: Int, _ hi: Int) -> String {
            b.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[lo..<hi]), as: UTF8.self) }
        }
        while i < n {
            // Blank line.
            if b[i] == nl { line += 1; i += 1; continue }
            if b[i] == cr && i + 1 < n && b[i + 1] == nl { line += 1; i += 2; continue }
            let startLine = line
            var fields: [String] = []
            var endOfRecord = false
            while !endOfRecord {
                if quoting && i < n && b[i] == quote {
                    var value: [UInt8] = []
                    i += 1
                    var closed = false
                    while i < n {
                        let c = b[i]
                        if c == quote {
                            if i + 1 < n && b[i + 1] == quote { value.append(quote); i += 2; continue }
                            i += 1; closed = true; break
                        }
                        if c == nl { line += 1 }
                        value.append(c); i += 1
                    }
                    if !closed {
                        throw PETError(.unclosedQuote, "quoted field opened here is never closed: expected a closing '\"' (write a quote inside a quoted field as \"\")",
                                       at: SourceLocation(file: file, line: startLine))
                    }
                    fields.append(String(decoding: value, as: UTF8.self))
                    if i >= n { endOfRecord = true }
                    else if b[i] == delimiter { i += 1 }
                    else if b[i] == nl { i += 1; line += 1; endOfRecord = true }
                    else if b[i] == cr && i + 1 < n && b[i + 1] == nl { i += 2; line += 1; endOfRecord = true }
                    else {
                        throw PETError(.badQuote, "unexpected character after a closing quote: expected the delimiter or end of line",
                                       at: SourceLocation(file: file, line: line))
                    }
                } else {
                    let start = i
                    while i < n && b[i] != delimiter && b[i] != nl { i += 1 }
                    var end = i
                    if i < n && b[i] == nl && end > start && b[end - 1] == cr { end -= 1 }
                    if i >= n && end > start && b[end - 1] == cr { end -= 1 }
                    fields.append(str(start, end))
                    if i >= n { endOfRecord = true }
                    else if b[i] == delimiter { i += 1; if i >= n { fields.append(""); endOfRecord = true } }
                    else { i += 1; line += 1; endOfRecord = true }
                }
            }
            out.append(RawRecord(fields: fields, line: startLine))
        }
        return out
    }

    /// RFC 4180 encoding of one field (quoted when it contains the delimiter, a quote or a line break).
    public static func encodeField(_ s: String, delimiter: Character = ",") -> String {
        if s.contains(delimiter) || s.contains("\"") || s.contains("\n") || s.contains("\r") {
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return s
    }
}
