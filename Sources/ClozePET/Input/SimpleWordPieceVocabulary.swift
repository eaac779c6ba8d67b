import ClozeModels

/// TEMPORARY bridge: ClozeModels' minimal WordPiece tokenizer as a `TokenVocabulary`, so PET runs
/// before ClozeTokenizers' HF-parity tokenizer is merged. Replace with a `Tokenizer` conformance then.
extension SimpleWordPiece: TokenVocabulary {
    public func tokenIDs(_ text: String) -> [Int32] { tokenize(text).map { vocab[$0] ?? unkId } }
    public var maskTokenID: Int32 { maskId }
    public var unknownTokenID: Int32? { unkId }
    public var specialTokens: SpecialTokenLayout { .bert(cls: clsId, sep: sepId, pad: padId) }
}
