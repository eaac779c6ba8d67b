import Foundation

/// Reads a SentencePiece `spiece.model` (protobuf ModelProto) directly: pieces, scores, types, the trainer's
/// model type and unk id, and the normaliser's precompiled charsmap. Unigram models only.
extension Tokenizer {
    public static func load(sentencePieceModel url: URL) throws -> Tokenizer {
        let file = url.path
        let bytes = try readBytes(url)
        var r = ProtoReader(bytes: bytes[...], file: file)
        var pieces: [[UInt8]] = [], scores: [Double] = [], types: [Int] = []
        var modelType = 1, unkID = 0
        var charsmap: [UInt8] = []
        var addDummyPrefix = true, removeExtraSpaces = true
        while let (field, wire) = try r.key() {
            switch (field, wire) {
            case (1, 2):
                var p = ProtoReader(bytes: try r.lengthDelimited(), file: file)
                var piece: [UInt8] = [], score: Float = 0, type = 1
                while let (f, w) = try p.key() {
                    switch (f, w) {
                    case (1, 2): piece = Array(try p.lengthDelimited())
                    case (2, 5): score = Float(bitPattern: try p.fixed32())
                    case (3, 0): type = try p.enumValue("piece type", 1...6)
                    default: try p.skip(w)
                    }
                }
                pieces.append(piece); scores.append(Double(score)); types.append(type)
            case (2, 2):
                var t = ProtoReader(bytes: try r.lengthDelimited(), file: file)
                while let (f, w) = try t.key() {
                    switch (f, w) {
                    case (3, 0): modelType = try t.enumValue("trainer_spec.model_type", 1...4)
                    case (40, 0): unkID = Int(try t.int32())
                    default: try t.skip(w)
                    }
                }
            case (3, 2):
                var n = ProtoReader(bytes: try r.lengthDelimited(), file: file)
                while let (f, w) = try n.key() {
                    switch (f, w) {
                    case (2, 2): charsmap = Array(try n.lengthDelimited())
                    case (3, 0): addDummyPrefix = try n.varint() != 0
                    case (4, 0): removeExtraSpaces = try n.varint() != 0
                    default: try n.skip(w)
                    }
                }
            default: try r.skip(wire)
            }
        }
        guard !pieces.isEmpty else { throw TokenizerError(file: file, "no pieces: not a SentencePiece model") }
        guard modelType == 1 else {
            throw TokenizerError(file: file, place: "trainer_spec.model_type", "model type \(modelType) is not supported (only Unigram, type 1); convert it to tokenizer.json with transformers")
        }
        guard unkID >= 0 && unkID < pieces.count else { throw TokenizerError(file: file, place: "trainer_spec.unk_id", "unk id \(unkID) is outside the vocabulary") }
        var rev: [Int32: [UInt8]] = [:]
        for (i, p) in pieces.enumerated() { rev[Int32(i)] = p }
        var added: [AddedToken] = []
        for (i, p) in pieces.enumerated() where types[i] == 2 || types[i] == 3 || types[i] == 4 {  // unknown, control, user-defined
            let s = String(decoding: p, as: UTF8.self)
            added.append(AddedToken(id: Int32(i), content: s, scalars: stringScalars(s), special: types[i] != 4,
                                    singleWord: false, lstrip: false, rstrip: false, normalized: types[i] == 4))
        }
        var norms: [Normalizer] = []
        if !charsmap.isEmpty { norms.append(.precompiled(try PrecompiledCharsmap(bytes: charsmap, file: file))) }
        if removeExtraSpaces { norms.append(.strip(left: false, right: true)); norms.append(.replace(pattern: .repeated(32, min: 2), content: [0x2581])) }
        let prepend: PrependScheme = addDummyPrefix ? .always : .never
        return Tokenizer(normalizer: .sequence(norms), preTokenizer: .metaspace(replacement: 0x2581, prepend: prepend, split: true),
                         model: .unigram(UnigramModel(pieces: pieces, scores: scores, unkID: Int32(unkID), byteFallback: false)),
                         postProcessor: nil, decoder: .metaspace(replacement: 0x2581, prepend: prepend), added: added, modelVocab: rev)
    }
}

struct ProtoReader {
    var bytes: ArraySlice<UInt8>
    let file: String
    var pos: Int
    init(bytes: ArraySlice<UInt8>, file: String) { self.bytes = bytes; self.file = file; pos = bytes.startIndex }

    func error(_ m: String) -> TokenizerError { TokenizerError(file: file, place: "byte \(pos)", "malformed SentencePiece model: \(m)") }

    mutating func varint() throws -> UInt64 {
        var v: UInt64 = 0, shift: UInt64 = 0
        while true {
            guard pos < bytes.endIndex, shift < 64 else { throw error("truncated varint") }
            let b = bytes[pos]; pos += 1
            v |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return v }
            shift += 7
        }
    }
    mutating func key() throws -> (Int, Int)? {
        guard pos < bytes.endIndex else { return nil }
        let k = try varint()
        guard k >> 3 <= UInt64(Int32.max) else { throw error("field number \(k >> 3) is out of range") }
        return (Int(k >> 3), Int(k & 7))
    }
    mutating func lengthDelimited() throws -> ArraySlice<UInt8> {
        let start = pos
        let n = try varint()
        // Compared as unsigned against what is left: a length near 2⁶⁴ neither converts nor overflows pos.
        guard n <= UInt64(bytes.endIndex - pos) else {
            pos = start
            throw error("length \(n) runs past the end (\(bytes.endIndex - pos) bytes left)")
        }
        let count = Int(n)
        defer { pos += count }
        return bytes[pos..<(pos + count)]
    }
    /// A protobuf int32 (negative values are sign-extended to 10 bytes); anything else is an error.
    mutating func int32() throws -> Int32 {
        let v = try varint()
        if v <= UInt64(Int32.max) { return Int32(v) }
        if v >= UInt64(bitPattern: Int64(Int32.min)) { return Int32(truncatingIfNeeded: Int64(bitPattern: v)) }
        throw error("value \(v) does not fit an int32 field")
    }
    /// An enum field whose known values are `range`.
    mutating func enumValue(_ name: String, _ range: ClosedRange<Int>) throws -> Int {
        let v = try varint()
        guard v >= UInt64(range.lowerBound), v <= UInt64(range.upperBound) else {
            throw error("\(name) \(Int64(bitPattern: v)) is not one of \(range.lowerBound)...\(range.upperBound)")
        }
        return Int(v)
    }
    mutating func fixed32() throws -> UInt32 {
        guard bytes.endIndex - pos >= 4 else { throw error("truncated fixed32") }
        defer { pos += 4 }
        return UInt32(bytes[pos]) | UInt32(bytes[pos + 1]) << 8 | UInt32(bytes[pos + 2]) << 16 | UInt32(bytes[pos + 3]) << 24
    }
    mutating func skip(_ wire: Int) throws {
        switch wire {
        case 0: _ = try varint()
        case 1: guard bytes.endIndex - pos >= 8 else { throw error("truncated fixed64") }; pos += 8
        case 2: _ = try lengthDelimited()
        case 5: _ = try fixed32()
        default: throw error("unknown wire type \(wire)")
        }
    }
}
