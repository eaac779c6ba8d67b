/// What the PET layer needs from a tokenizer. The lead conforms `ClozeTokenizers.Tokenizer` to it;
/// tests use small fakes.
///
/// Leading-space convention: the PET layer passes `" " + piece` for a piece that follows a space in the
/// pattern (and for verbalizer words). Space-insensitive tokenizers (BERT WordPiece) give the same
/// tokens either way; byte-level BPE (RoBERTa) and SentencePiece give the word-initial form (`Ġgreat`).
public protocol TokenVocabulary {
    /// Token strings of `text`, no special tokens (used in error messages).
    func tokenize(_ text: String) -> [String]
    /// Token ids of `text`, no special tokens.
    func tokenIDs(_ text: String) -> [Int32]
    /// The model's own mask token id (`[MASK]` in a pattern always becomes this).
    var maskTokenID: Int32 { get }
    /// Id of the unknown token, if the vocabulary has one (a verbalizer word mapping to it is an error).
    var unknownTokenID: Int32? { get }
    /// How one or two segments are wrapped in special tokens.
    var specialTokens: SpecialTokenLayout { get }
    /// The vocabulary's text of token `id` (`great`, `Ġgreat`, `▁great`), nil when unknown (label search).
    func tokenString(_ id: Int32) -> String?
}

extension TokenVocabulary {
    public func tokenString(_ id: Int32) -> String? { nil }
}

/// `prefix A suffix` for one segment, `prefix A separator B suffix` for two (HF's
/// build_inputs_with_special_tokens / create_token_type_ids_from_sequences).
public struct SpecialTokenLayout: Sendable, Equatable {
    public var prefix: [Int32]
    public var separator: [Int32]
    public var suffix: [Int32]
    /// Token type of the second segment and its trailing specials (1 for BERT, 0 for RoBERTa).
    public var secondSegmentTypeID: Int32
    public var padID: Int32

    public init(prefix: [Int32], separator: [Int32], suffix: [Int32], secondSegmentTypeID: Int32, padID: Int32) {
        self.prefix = prefix; self.separator = separator; self.suffix = suffix
        self.secondSegmentTypeID = secondSegmentTypeID; self.padID = padID
    }

    /// BERT/ALBERT/ELECTRA: `[CLS] A [SEP]` and `[CLS] A [SEP] B [SEP]`, B typed 1.
    public static func bert(cls: Int32, sep: Int32, pad: Int32) -> SpecialTokenLayout {
        SpecialTokenLayout(prefix: [cls], separator: [sep], suffix: [sep], secondSegmentTypeID: 1, padID: pad)
    }
    /// RoBERTa: `<s> A </s>` and `<s> A </s></s> B </s>`, all typed 0.
    public static func roberta(bos: Int32, eos: Int32, pad: Int32) -> SpecialTokenLayout {
        SpecialTokenLayout(prefix: [bos], separator: [eos, eos], suffix: [eos], secondSegmentTypeID: 0, padID: pad)
    }

    public func count(segments: Int) -> Int {
        prefix.count + suffix.count + (segments > 1 ? separator.count : 0)
    }
}
