import Foundation

/// Where a task's unlabelled pool comes from, when it is not a plain split in the task's own format.
///
/// The LM-BFF splits of MR, CR, SUBJ and TREC have no unlabelled data; the full harvardnlp files
/// (`kim_cnn_sentence_datasets/`) serve as the pool, but they contain the test sentences (and the
/// few-shot examples), so those are removed first: PET's pool must not hold the examples it is scored on.
public struct UnlabeledPoolSpec: Codable, Sendable, Equatable {
    /// Path under the data root; `{seed}` is replaced by the split seed.
    public var path: String
    /// Format of the pool file (default: the task's format). Its `columns` must map the same slot
    /// aliases (`text_a`, `text_b`) the task's patterns use.
    public var format: DataFormat?
    /// Splits whose texts are removed from the pool, e.g. ["train", "dev", "test"].
    public var exclude: [String]?
}

public enum PoolExclusion {
    /// Text used to recognise the same example across files that differ in encoding and spacing:
    /// the slot texts, lower-cased ASCII letters and digits kept, every other non-ASCII scalar reduced
    /// to `?` (so Latin-1 `é` in one file matches a mis-decoded `й` in another, as in LM-BFF's SUBJ),
    /// and ASCII punctuation and whitespace dropped.
    public static func key(_ example: Example, slots: [String]) -> String {
        var out = String.UnicodeScalarView()
        for (n, slot) in slots.enumerated() {
            if n > 0 { out.append("|") }
            for u in (example.fields[slot] ?? "").unicodeScalars {
                switch u.value {
                case 0x30...0x39, 0x61...0x7A: out.append(u)
                case 0x41...0x5A: out.append(Unicode.Scalar(u.value + 0x20)!)
                case 0..<0x80: continue
                default: out.append("?")
                }
            }
        }
        return String(out)
    }

    /// `pool` without the examples whose key occurs in `excluded`; also returns how many were removed.
    public static func remove(_ excluded: [Example], from pool: [Example], slots: [String]) -> (kept: [Example], removed: Int) {
        let keys = Set(excluded.map { key($0, slots: slots) })
        let kept = pool.filter { !keys.contains(key($0, slots: slots)) }
        return (kept, pool.count - kept.count)
    }
}
