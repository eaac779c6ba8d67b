import ClozeModels
import ClozeTensor
import Foundation

/// One label-word assignment (a vocabulary row per class) and how well it does.
public struct LabelAssignment: Sendable, Equatable, Codable {
    public var rows: [Int]
    public var words: [String]
    /// Zero-shot accuracy on the training examples (LM-BFF's pruning score).
    public var trainAccuracy: Double
    /// Mean log-probability of the gold class within the assignment: breaks ties of the accuracy, which
    /// takes only a few values on 16-shot data.
    public var trainLogLikelihood: Double
    /// Accuracy on the dev split after prompt-based fine-tuning (the re-ranking), when run.
    public var devAccuracy: Double?
}

/// LM-BFF's automatic label-word search (`tools/generate_labels.py`, `src/label_search.py`) on any
/// masked LM: per class the `k` vocabulary words with the highest mean MLM logit at the mask over that
/// class's training examples, then the assignments of one word per class scored by zero-shot training
/// accuracy. Words are whole-word tokens that a verbalizer file can name: a token whose text, with a
/// leading space, tokenises back to itself alone (LM-BFF keeps RoBERTa's `Ġ` tokens; this works for
/// WordPiece, byte-level BPE and SentencePiece alike).
public enum LabelSearch {
    /// Vocabulary rows usable as label words, with their text.
    public static func wordRows(vocabulary: any TokenVocabulary, size: Int) -> [Int: String] {
        var out: [Int: String] = [:]
        for row in 0..<size {
            guard let token = vocabulary.tokenString(Int32(row)) else { continue }
            var word = token
            for marker in ["Ġ", "▁"] where word.hasPrefix(marker) { word.removeFirst(marker.count) }
            guard word.unicodeScalars.contains(where: { $0.properties.isAlphabetic }),
                  !word.unicodeScalars.contains(where: { $0.properties.isWhitespace || "{}[]\\#,:".unicodeScalars.contains($0) }),
                  !(word.hasPrefix("[") && word.hasSuffix("]")), !(word.hasPrefix("<") && word.hasSuffix(">")),
                  vocabulary.tokenIDs(" " + word) == [Int32(row)] else { continue }
            out[row] = word
        }
        return out
    }

    /// Per class, the `k` allowed rows with the highest mean logit over the class's examples
    /// (`logits`: [n × V] row-major; LM-BFF's `select_likely_words`).
    public static func likelyWords(logits: [Float], vocabularySize V: Int, labels: [Int], classes: Int, allowed: Set<Int>, k: Int) -> [[Int]] {
        (0..<classes).map { c in
            var mean = [Float](repeating: 0, count: V)
            let members = labels.indices.filter { labels[$0] == c }
            logits.withUnsafeBufferPointer { src in
                mean.withUnsafeMutableBufferPointer { dst in
                    for i in members { Vectorized.addInPlace(dst.baseAddress!, src.baseAddress! + i * V, count: V) }
                }
            }
            return allowed.sorted { mean[$0] != mean[$1] ? mean[$0] > mean[$1] : $0 < $1 }.prefix(k).map { $0 }
        }
    }

    /// Re-ranks each class's candidates by cosine similarity of their output-embedding rows to that
    /// class's seed word row, keeping `k` (LM-BFF's `--use_seed_labels` k-NN step, used for TREC).
    public static func nearestToSeeds(_ candidates: [[Int]], seeds: [Int], embeddings: Tensor, k: Int) -> [[Int]] {
        let d = embeddings.shape[1]
        return zip(candidates, seeds).map { cands, seed in
            let sims = DemonstrationSampler.cosine(query: 0, of: Array(embeddings.data[(seed * d)..<((seed + 1) * d)]),
                                                   pool: cands.flatMap { Array(embeddings.data[($0 * d)..<(($0 + 1) * d)]) }, dimension: d)
            return cands.indices.sorted { sims[$0] != sims[$1] ? sims[$0] > sims[$1] : $0 < $1 }.prefix(k).map { cands[$0] }
        }
    }
}

extension LabelSearch {
    /// The `top` best assignments of one candidate per class (distinct rows), by training accuracy, then
    /// log-likelihood. All assignments are scored when there are at most `exhaustiveLimit` (LM-BFF scores
    /// the whole product); beyond that (many classes), a beam over the classes in order keeps the
    /// `beam` best partial assignments, each scored on the examples of the classes it covers.
    public static func bestAssignments(logits: [Float], vocabularySize V: Int, labels: [Int], candidates: [[Int]], top: Int,
                                       beam: Int = 2000, exhaustiveLimit: Int = 250_000) -> [LabelAssignment] {
        let scorer = AssignmentScorer(logits: logits, vocabularySize: V, labels: labels, candidates: candidates)
        let product = candidates.reduce(1.0) { $0 * Double($1.count) }
        var partial: [[Int]] = [[]]
        for c in candidates.indices {
            var next: [([Int], (Double, Double))] = []
            for p in partial {
                for j in candidates[c].indices where !p.enumerated().contains(where: { candidates[$0.offset][$0.element] == candidates[c][j] }) {
                    let a = p + [j]
                    next.append((a, scorer.score(a)))
                }
            }
            next.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0.lexicographicallyPrecedes($1.0) }
            let keep = product <= Double(exhaustiveLimit) ? next.count : beam
            partial = next.prefix(c == candidates.count - 1 ? top : keep).map(\.0)
        }
        return partial.map { a in
            let (acc, ll) = scorer.score(a)
            return LabelAssignment(rows: a.enumerated().map { candidates[$0.offset][$0.element] }, words: [], trainAccuracy: acc,
                                   trainLogLikelihood: ll, devAccuracy: nil)
        }
    }
}

/// Scores (partial) assignments: accuracy and mean gold log-probability over the examples whose class
/// the assignment covers, each predicted among the covered classes' words.
struct AssignmentScorer {
    /// values[c][j][i]: logit of class c's candidate j on example i.
    let values: [[[Float]]]
    let labels: [Int]

    init(logits: [Float], vocabularySize V: Int, labels: [Int], candidates: [[Int]]) {
        self.labels = labels
        values = candidates.map { rows in rows.map { row in labels.indices.map { logits[$0 * V + row] } } }
    }

    func score(_ a: [Int]) -> (accuracy: Double, logLikelihood: Double) {
        var correct = 0, total = 0
        var ll = 0.0
        for (i, gold) in labels.enumerated() where gold < a.count {
            var best = 0, bestValue = -Float.infinity, maxValue = -Float.infinity
            for c in a.indices {
                let v = values[c][a[c]][i]
                if v > bestValue { bestValue = v; best = c }
                maxValue = max(maxValue, v)
            }
            var sum = 0.0
            for c in a.indices { sum += Foundation.exp(Double(values[c][a[c]][i] - maxValue)) }
            ll += Double(values[gold][a[gold]][i] - maxValue) - Foundation.log(sum)
            total += 1
            if best == gold { correct += 1 }
        }
        return total == 0 ? (0, 0) : (Double(correct) / Double(total), ll / Double(total))
    }
}
