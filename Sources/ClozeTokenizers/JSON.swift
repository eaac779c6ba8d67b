/// A small JSON reader over UTF-8 bytes. Strings stay as bytes: Swift `String` equality merges
/// canonically equivalent strings, which would merge distinct vocabulary entries.
enum JSONValue {
    case object([(key: [UInt8], value: JSONValue)])
    case array([JSONValue])
    case string([UInt8])
    case number(Double)
    case bool(Bool)
    case null

    subscript(_ key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        let k = Array(key.utf8)
        for m in members where m.key == k { return m.value }
        return nil
    }
    var string: String? { if case .string(let b) = self { return String(decoding: b, as: UTF8.self) } else { return nil } }
    var bytes: [UInt8]? { if case .string(let b) = self { return b } else { return nil } }
    var double: Double? { if case .number(let d) = self { return d } else { return nil } }
    var int: Int? { if case .number(let d) = self, d == d.rounded(), abs(d) < 1e15 { return Int(d) } else { return nil } }
    var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    var array: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    var members: [(key: [UInt8], value: JSONValue)]? { if case .object(let m) = self { return m } else { return nil } }
    var isNull: Bool { if case .null = self { return true } else { return false } }
}

struct JSONParser {
    let bytes: [UInt8]
    let file: String
    var pos = 0

    init(bytes: [UInt8], file: String) { self.bytes = bytes; self.file = file }

    static func parse(_ bytes: [UInt8], file: String) throws -> JSONValue {
        var p = JSONParser(bytes: bytes, file: file)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        if p.pos != bytes.count { throw p.error("unexpected data after the JSON value") }
        return v
    }

    func error(_ msg: String) -> TokenizerError {
        var line = 1, col = 1
        for i in 0..<min(pos, bytes.count) { if bytes[i] == 10 { line += 1; col = 1 } else { col += 1 } }
        return TokenizerError(file: file, place: "line \(line), column \(col)", "malformed JSON: \(msg)")
    }

    mutating func skipSpace() {
        while pos < bytes.count, bytes[pos] == 32 || bytes[pos] == 10 || bytes[pos] == 13 || bytes[pos] == 9 { pos += 1 }
    }

    mutating func value(depth: Int) throws -> JSONValue {
        guard depth < 512 else { throw error("nesting too deep") }
        guard pos < bytes.count else { throw error("unexpected end of file") }
        switch bytes[pos] {
        case UInt8(ascii: "{"):
            pos += 1; skipSpace()
            var members: [(key: [UInt8], value: JSONValue)] = []
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(members) }
            while true {
                skipSpace()
                guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw error("expected a string key") }
                let k = try string()
                skipSpace()
                guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw error("expected ':'") }
                pos += 1; skipSpace()
                let v = try value(depth: depth + 1)
                members.append((k, v))
                skipSpace()
                guard pos < bytes.count else { throw error("unexpected end of file in object") }
                if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
                if bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(members) }
                throw error("expected ',' or '}'")
            }
        case UInt8(ascii: "["):
            pos += 1; skipSpace()
            var items: [JSONValue] = []
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
            while true {
                skipSpace()
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard pos < bytes.count else { throw error("unexpected end of file in array") }
                if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
                if bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
                throw error("expected ',' or ']'")
            }
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default:
            return .number(try number())
        }
    }

    mutating func literal(_ s: String) throws {
        let u = Array(s.utf8)
        guard pos + u.count <= bytes.count, Array(bytes[pos..<pos + u.count]) == u else { throw error("invalid literal") }
        pos += u.count
    }

    mutating func number() throws -> Double {
        let start = pos
        while pos < bytes.count, let c = Optional(bytes[pos]),
              (c >= 48 && c <= 57) || c == 45 || c == 43 || c == 46 || c == 101 || c == 69 { pos += 1 }
        guard pos > start, let d = Double(String(decoding: bytes[start..<pos], as: UTF8.self)) else {
            throw error("invalid value")
        }
        return d
    }

    mutating func hex4() throws -> UInt32 {
        guard pos + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[pos]; pos += 1
            let d: UInt32
            switch c {
            case 48...57: d = UInt32(c - 48)
            case 65...70: d = UInt32(c - 55)
            case 97...102: d = UInt32(c - 87)
            default: throw error("invalid \\u escape")
            }
            v = v << 4 | d
        }
        return v
    }

    mutating func string() throws -> [UInt8] {
        pos += 1
        var out: [UInt8] = []
        while true {
            guard pos < bytes.count else { throw error("unterminated string") }
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") { pos += 1; break }
            if c == UInt8(ascii: "\\") {
                pos += 1
                guard pos < bytes.count else { throw error("unterminated escape") }
                let e = bytes[pos]; pos += 1
                switch e {
                case UInt8(ascii: "\""): out.append(34)
                case UInt8(ascii: "\\"): out.append(92)
                case UInt8(ascii: "/"): out.append(47)
                case UInt8(ascii: "b"): out.append(8)
                case UInt8(ascii: "f"): out.append(12)
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "u"):
                    var cp = try hex4()
                    if cp >= 0xD800 && cp < 0xDC00 {
                        if pos + 6 <= bytes.count, bytes[pos] == 92, bytes[pos + 1] == UInt8(ascii: "u") {
                            pos += 2
                            let lo = try hex4()
                            if lo >= 0xDC00 && lo < 0xE000 { cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00) } else { cp = 0xFFFD }
                        } else { cp = 0xFFFD }
                    } else if cp >= 0xDC00 && cp < 0xE000 { cp = 0xFFFD }
                    appendUTF8(&out, cp)
                default: throw error("invalid escape")
                }
            } else {
                out.append(c); pos += 1
            }
        }
        return out
    }
}

@inline(__always)
func appendUTF8(_ out: inout [UInt8], _ cp: UInt32) {
    if cp < 0x80 { out.append(UInt8(cp)) }
    else if cp < 0x800 { out.append(UInt8(0xC0 | (cp >> 6))); out.append(UInt8(0x80 | (cp & 0x3F))) }
    else if cp < 0x10000 {
        out.append(UInt8(0xE0 | (cp >> 12))); out.append(UInt8(0x80 | ((cp >> 6) & 0x3F))); out.append(UInt8(0x80 | (cp & 0x3F)))
    } else {
        out.append(UInt8(0xF0 | (cp >> 18))); out.append(UInt8(0x80 | ((cp >> 12) & 0x3F)))
        out.append(UInt8(0x80 | ((cp >> 6) & 0x3F))); out.append(UInt8(0x80 | (cp & 0x3F)))
    }
}

/// Decodes UTF-8 into scalars; returns nil at the byte offset of the first invalid sequence.
struct UTF8Failure: Error { let offset: Int }

func decodeUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<[UInt32], UTF8Failure> {
    var out: [UInt32] = []
    out.reserveCapacity(bytes.count)
    var i = 0
    let n = bytes.count
    while i < n {
        let b0 = UInt32(bytes[i])
        if b0 < 0x80 { out.append(b0); i += 1; continue }
        var need = 0, cp: UInt32 = 0, minCp: UInt32 = 0
        if b0 & 0xE0 == 0xC0 { need = 1; cp = b0 & 0x1F; minCp = 0x80 }
        else if b0 & 0xF0 == 0xE0 { need = 2; cp = b0 & 0x0F; minCp = 0x800 }
        else if b0 & 0xF8 == 0xF0 { need = 3; cp = b0 & 0x07; minCp = 0x10000 }
        else { return .failure(UTF8Failure(offset: i)) }
        guard i + need < n else { return .failure(UTF8Failure(offset: i)) }
        for k in 1...need {
            let b = UInt32(bytes[i + k])
            guard b & 0xC0 == 0x80 else { return .failure(UTF8Failure(offset: i)) }
            cp = cp << 6 | (b & 0x3F)
        }
        if cp < minCp || cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000) { return .failure(UTF8Failure(offset: i)) }
        out.append(cp)
        i += need + 1
    }
    return .success(out)
}

func scalarsToString(_ s: [UInt32]) -> String {
    var b: [UInt8] = []
    b.reserveCapacity(s.count)
    for c in s { appendUTF8(&b, c) }
    return String(decoding: b, as: UTF8.self)
}

func stringScalars(_ s: String) -> [UInt32] {
    var out: [UInt32] = []
    out.reserveCapacity(s.utf8.count)
    for u in s.unicodeScalars { out.append(u.value) }
    return out
}
