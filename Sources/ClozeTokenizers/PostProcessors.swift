/// One part of a template: a special token or a sequence, with its type id.
enum TemplatePiece {
    case special(id: String, typeID: UInt32)
    case sequence(second: Bool, typeID: UInt32)
}

/// tokenizer.json `post_processor`.
indirect enum PostProcessor {
    case bert(sep: Int32, cls: Int32)
    case roberta(sep: Int32, cls: Int32, trimOffsets: Bool, addPrefixSpace: Bool)
    case template(single: [TemplatePiece], pair: [TemplatePiece], specials: [String: [Int32]])
    case byteLevel(trimOffsets: Bool, addPrefixSpace: Bool)
    case sequence([PostProcessor])

    /// Number of special tokens it adds (used to size truncation).
    func addedTokens(pair: Bool) -> Int {
        switch self {
        case .bert: return pair ? 3 : 2
        case .roberta: return pair ? 4 : 2
        case let .template(single, p, specials):
            return (pair ? p : single).reduce(0) { acc, piece in
                if case let .special(id, _) = piece { return acc + (specials[id]?.count ?? 0) }
                return acc
            }
        case .byteLevel: return 0
        case .sequence(let l): return l.reduce(0) { $0 + $1.addedTokens(pair: pair) }
        }
    }
}
