import ClozeTokenizers
import Foundation

/// `ClozeTokenizers.Tokenizer` (HF tokenizer.json parity) as the PET layer's `TokenVocabulary`.
/// The special-token layout is read from the tokenizer's own post-processor (by building a pair
/// input around two sentinel ids), so BERT (`[CLS] A [SEP] B [SEP]`, types 0/1) and RoBERTa
/// (`<s> A </s></s> B </s>`, types 0) both come out right.
public struct TokenizerVocabulary: TokenVocabulary {
    public let tokenizer: Tokenizer
    public let maskTokenID: Int32
    public let unknownTokenID: Int32?
    public let specialTokens: SpecialTokenLayout

    public init(_ tokenizer: Tokenizer, source: String = "tokenizer") throws {
        self.tokenizer = tokenizer
        guard let mask = tokenizer.maskTokenID else {
            throw PETError(.notSingleToken, "the tokenizer has no mask token ([MASK] or <mask>); PET needs a masked language model's tokenizer",
                           at: SourceLocation(file: source))
        }
        maskTokenID = mask
        unknownTokenID = tokenizer.unkTokenID
        let a: Int32 = -1001, b: Int32 = -2002
        let e = tokenizer.buildInputs([a], [b])
        guard let ia = e.ids.firstIndex(of: a), let ib = e.ids.firstIndex(of: b), ia < ib else {
            throw PETError(.notSingleToken, "cannot read the tokenizer's special-token layout", at: SourceLocation(file: source))
        }
        let pad = tokenizer.padTokenID ?? 0
        specialTokens = SpecialTokenLayout(prefix: Array(e.ids[..<ia]), separator: Array(e.ids[(ia + 1)..<ib]),
                                           suffix: Array(e.ids[(ib + 1)...]), secondSegmentTypeID: e.typeIDs[ib], padID: pad)
    }

    /// Loads the tokenizer of a Hugging Face model directory.
    public static func load(directory: String) throws -> TokenizerVocabulary {
        try TokenizerVocabulary(Tokenizer.load(directory: URL(fileURLWithPath: directory)), source: directory)
    }

    public func tokenize(_ text: String) -> [String] { tokenizer.tokenize(text) }
    public func tokenIDs(_ text: String) -> [Int32] { tokenizer.encodeIDs(text) }
    public func tokenString(_ id: Int32) -> String? { tokenizer.token(for: id) }
}
