import Foundation

/// A verbalizer file: `LABEL: word[, word...]` per line (grammar in docs/PATTERNS.md).
public struct Verbalizer: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var label: String
        public var words: [String]
        /// Location of the line, and per word its 1-based column.
        public var location: SourceLocation
        public var wordColumns: [Int]
    }

    public var entries: [Entry]
    public var file: String

    public var labels: [String] { entries.map(\.label) }

    public static func load(path: String) throws -> Verbalizer {
        try parse(text: TextFile.readUTF8(path: path), file: path)
    }

    public static func parse(text: String, file: String) throws -> Verbalizer {
        var entries: [Entry] = []
        var seenWords: [String: (label: String, line: Int)] = [:]
        var lineNumber = 0
        for raw in TextFile.lines(text) {
            lineNumber += 1
            var line = String(raw)
            if line.hasSuffix("\r") { line.removeLast() }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let loc = SourceLocation(file: file, line: lineNumber)
            let scalars = Array(line.unicodeScalars)
            guard let colon = scalars.firstIndex(of: ":") else {
                throw PETError(.badVerbalizerLine, "expected 'LABEL: word[, word...]' but found no ':'", at: loc)
            }
            let label = String(String.UnicodeScalarView(scalars[..<colon])).trimmingCharacters(in: .whitespaces)
            if label.isEmpty {
                var l = loc; l.column = colon + 1
                throw PETError(.badVerbalizerLine, "expected a label before ':'", at: l)
            }
            if let prev = entries.first(where: { $0.label == label }) {
                throw PETError(.duplicateLabel, "label '\(label)' already has words on line \(prev.location.line ?? 0); put all its words on one line", at: loc)
            }
            var words: [String] = []
            var columns: [Int] = []
            var start = colon + 1
            while start <= scalars.count {
                let end = scalars[start...].firstIndex(of: ",") ?? scalars.count
                let piece = String(String.UnicodeScalarView(scalars[start..<end]))
                let word = piece.trimmingCharacters(in: .whitespaces)
                let lead = piece.unicodeScalars.prefix { $0 == " " || $0 == "\t" }.count
                var l = loc; l.column = start + lead + 1
                if word.isEmpty {
                    throw PETError(words.isEmpty && end == scalars.count ? .noWords : .badVerbalizerLine,
                                   words.isEmpty && end == scalars.count
                                       ? "label '\(label)' has no words: expected 'LABEL: word[, word...]'"
                                       : "empty word: expected a word between commas", at: l)
                }
                if let prev = seenWords[word] {
                    throw PETError(.duplicateWord, "word '\(word)' is already used for label '\(prev.label)' (line \(prev.line)); each word may verbalize one label only", at: l)
                }
                seenWords[word] = (label, lineNumber)
                words.append(word); columns.append(l.column!)
                start = end + 1
            }
            entries.append(Entry(label: label, words: words, location: loc, wordColumns: columns))
        }
        if entries.isEmpty {
            throw PETError(.noWords, "no verbalizer lines: expected 'LABEL: word[, word...]' lines", at: SourceLocation(file: file))
        }
        return Verbalizer(entries: entries, file: file)
    }

    /// Resolves words to single token ids of `vocabulary`, ordered by the task's `labels`.
    /// Every verbalizer label must be a task label and every task label must have words.
    /// Words are tokenised with a leading space (`" great"`), as PET and LM-BFF do for RoBERTa; for
    /// BERT WordPiece the space changes nothing.
    public func resolve(labels: [String], vocabulary: any TokenVocabulary) throws -> ResolvedVerbalizer {
        for e in entries where !labels.contains(e.label) {
            throw PETError(.labelNotInData, "label '\(e.label)' is not a label of the task (labels: \(labels.joined(separator: ", ")))", at: e.location)
        }
        var rows: [Int] = []
        var rowIndex: [Int: Int] = [:]
        var labelColumns: [[Int]] = []
        for label in labels {
            guard let e = entries.first(where: { $0.label == label }) else {
                throw PETError(.labelWithoutWords, "task label '\(label)' has no words: add a line '\(label): word'", at: SourceLocation(file: file))
            }
            var cols: [Int] = []
            for (w, word) in e.words.enumerated() {
                let ids = vocabulary.tokenIDs(" " + word)
                var loc = e.location; loc.column = e.wordColumns[w]
                if ids.count != 1 {
                    let toks = vocabulary.tokenize(" " + word)
                    throw PETError(.notSingleToken,
                        "verbalizer word '\(word)' (label '\(label)') is not a single token of this model: it is \(toks.count) tokens [\(toks.joined(separator: ", "))]; choose a single-token word, or use multi-mask PET (--multi-mask) for words of several tokens",
                        at: loc)
                }
                if let unk = vocabulary.unknownTokenID, ids[0] == unk {
                    throw PETError(.notSingleToken, "verbalizer word '\(word)' (label '\(label)') is not in the model's vocabulary (it becomes the unknown token)", at: loc)
                }
                let row = Int(ids[0])
                if let c = rowIndex[row] {
                    throw PETError(.duplicateWord, "verbalizer word '\(word)' has the same token as another word (vocabulary row \(row), column \(c))", at: loc)
                }
                rowIndex[row] = rows.count
                cols.append(rows.count)
                rows.append(row)
            }
            labelColumns.append(cols)
        }
        return ResolvedVerbalizer(labels: labels, vocabularyRows: rows, labelColumns: labelColumns)
    }
}

/// A verbalizer bound to one model's vocabulary.
public struct ResolvedVerbalizer: Sendable, Equatable {
    /// Task labels, in the task's order (class index = position).
    public var labels: [String]
    /// Distinct vocabulary rows of all words: the rows for `mlmLogits(..., vocabularyRows:)`.
    public var vocabularyRows: [Int]
    /// Per label, indices into `vocabularyRows` of its words.
    public var labelColumns: [[Int]]

    /// Label logits from logits over `vocabularyRows` ([n, vocabularyRows.count] row-major): for each
    /// label the mean of its words' logits (PET's `convert_mlm_logits_to_cls_logits`).
    public func labelLogits(_ wordLogits: [Float], count n: Int) -> [Float] {
        let w = vocabularyRows.count
        var out = [Float](repeating: 0, count: n * labels.count)
        for i in 0..<n {
            for (l, cols) in labelColumns.enumerated() {
                var s: Float = 0
                for c in cols { s += wordLogits[i * w + c] }
                out[i * labels.count + l] = s / Float(cols.count)
            }
        }
        return out
    }
}
