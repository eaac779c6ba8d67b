import Foundation

extension JSONEncoder {
    /// Pretty-printed, key-sorted: every JSON file Cloze writes (results, configs, adapter configs)
    /// diffs cleanly between runs.
    public static var readable: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return encoder
    }
}
