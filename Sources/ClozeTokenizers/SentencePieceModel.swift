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
                    case (3, 0): type = Int(try p.varint())
                    default: try p.skip(w)
                    }
                }
                pieces.append(piece); scores.append(Double(score)); types.append(type)
            case (2, 2):
                var t = ProtoReader(bytes: try r.lengthDelimited(), file: file)
                while let (f, w) = try t.key() {
                    switch (f, w) {
                    case (3, 0): modelType = Int(try t.varint())
                    case (40, 0): unkID = Int(Int32(truncatingIfNeeded: try t.varint()))
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
        return (Int(k >> 3), Int(k & 7))
    }
    mutating func lengthDelimited() throws -> ArraySlice<UInt8> {
        let n = Int(try varint())
        guard n >= 0, pos + n <= bytes.endIndex else { throw error("length \(n) runs past the end") }
        defer { pos += n }
        return bytes[pos..<(pos + n)]
    }
    mutating func fixed32() throws -> UInt32 {
        guard pos + 4 <= bytes.endIndex else { throw error("truncated fixed32") }
        defer { pos += 4 }
        return UInt32(bytes[pos]) | UInt32(bytes[pos + 1]) << 8 | UInt32(bytes[pos + 2]) << 16 | UInt32(bytes[pos + 3]) << 24
    }
    mutating func skip(_ wire: Int) throws {
        switch wire {
        case 0: _ = try varint()
        case 1: guard pos + 8 <= bytes.endIndex else { throw error("truncated fixed64") }; pos += 8
        case 2: _ = try lengthDelimited()
        case 5: _ = try fixed32()
        default: throw error("unknown wire type \(wire)")
        }
    }
}
