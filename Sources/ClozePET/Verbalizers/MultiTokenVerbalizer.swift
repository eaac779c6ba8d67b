/// A verbalizer for multi-mask PET: per label one verbalization of one or more tokens (PET's
/// MultiMaskTaskHelper uses `verbalize(label)[0]`, the label's first word).
public struct MultiTokenVerbalizer: Sendable, Equatable {
    public var labels: [String]
    /// Per label (task order), the token ids of its verbalization.
    public var tokens: [[Int32]]
    /// Masks a pattern needs: the longest verbalization.
    public var maskCount: Int { tokens.map(\.count).max() ?? 1 }
    public init(labels: [String], tokens: [[Int32]]) { self.labels = labels; self.tokens = tokens }
}

extension Verbalizer {
    /// Resolves each label's word to its tokens, tokenised as in context: with a leading space, as PET's
    /// `get_verbalization_ids` (add_prefix_space for byte-level BPE; no change for WordPiece).
    /// Multi-mask PET scores one verbalization per label: a label with several words is an error.
    public func resolveMultiToken(labels: [String], vocabulary: any TokenVocabulary) throws -> MultiTokenVerbalizer {
        for e in entries where !labels.contains(e.label) {
            throw PETError(.labelNotInData, "label '\(e.label)' is not a label of the task (labels: \(labels.joined(separator: ", ")))", at: e.location)
        }
        var tokens: [[Int32]] = []
        for label in labels {
            guard let e = entries.first(where: { $0.label == label }) else {
                throw PETError(.labelWithoutWords, "task label '\(label)' has no words: add a line '\(label): word'", at: SourceLocation(file: file))
            }
            var loc = e.location
            if e.words.count > 1 {
                loc.column = e.wordColumns[1]
                throw PETError(.badVerbalizerLine, "multi-mask PET scores one verbalization per label, but '\(label)' has \(e.words.count) words; keep one (it may be several tokens)", at: loc)
            }
            let ids = vocabulary.tokenIDs(" " + e.words[0])
            loc.column = e.wordColumns[0]
            guard !ids.isEmpty else { throw PETError(.notSingleToken, "verbalizer word '\(e.words[0])' has no tokens", at: loc) }
            if let unk = vocabulary.unknownTokenID, ids.contains(unk) {
                throw PETError(.notSingleToken, "verbalizer word '\(e.words[0])' (label '\(label)') contains the unknown token: it cannot be predicted", at: loc)
            }
            if let other = tokens.firstIndex(of: ids) {
                throw PETError(.duplicateWord, "labels '\(labels[other])' and '\(label)' have the same tokens \(ids)", at: loc)
            }
            tokens.append(ids)
        }
        return MultiTokenVerbalizer(labels: labels, tokens: tokens)
    }
}
