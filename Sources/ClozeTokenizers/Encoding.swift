/// The result of encoding one text or a pair. Offsets are Unicode scalar (code point) offsets into the
/// input text they come from (for a pair's second text, into that text), like HF's Python API; special
/// tokens added by the post-processor have (0, 0).
public struct Encoding: Equatable {
    public var ids: [Int32] = []
    public var tokens: [String] = []
    public var typeIDs: [Int32] = []
    public var attentionMask: [Int32] = []
    public var offsets: [(Int, Int)] { zip(offsetStarts, offsetEnds).map { (Int($0), Int($1)) } }
    public var specialTokensMask: [Int32] = []
    var offsetStarts: [Int32] = []
    var offsetEnds: [Int32] = []
    public init() {}

    public var count: Int { ids.count }

    mutating func append(id: Int32, token: String, typeID: Int32, start: Int32, end: Int32, special: Bool) {
        ids.append(id); tokens.append(token); typeIDs.append(typeID); attentionMask.append(1)
        offsetStarts.append(start); offsetEnds.append(end); specialTokensMask.append(special ? 1 : 0)
    }
    mutating func append(_ other: Encoding, typeID: Int32? = nil) {
        ids += other.ids; tokens += other.tokens
        typeIDs += typeID.map { [Int32](repeating: $0, count: other.count) } ?? other.typeIDs
        attentionMask += other.attentionMask; offsetStarts += other.offsetStarts; offsetEnds += other.offsetEnds
        specialTokensMask += other.specialTokensMask
    }
    mutating func truncate(_ n: Int) {
        guard count > n else { return }
        ids.removeSubrange(n...); tokens.removeSubrange(n...); typeIDs.removeSubrange(n...)
        attentionMask.removeSubrange(n...); offsetStarts.removeSubrange(n...); offsetEnds.removeSubrange(n...)
        specialTokensMask.removeSubrange(n...)
    }
    public static func == (a: Encoding, b: Encoding) -> Bool {
        a.ids == b.ids && a.tokens == b.tokens && a.typeIDs == b.typeIDs && a.attentionMask == b.attentionMask
            && a.offsetStarts == b.offsetStarts && a.offsetEnds == b.offsetEnds && a.specialTokensMask == b.specialTokensMask
    }
}

/// Truncation of encodings to `maxLength` tokens (special tokens included), as HF does it.
public struct Truncation {
    public enum Strategy: String { case longestFirst = "longest_first", onlyFirst = "only_first", onlySecond = "only_second" }
    public var maxLength: Int
    public var strategy: Strategy
    public init(maxLength: Int, strategy: Strategy = .longestFirst) { self.maxLength = maxLength; self.strategy = strategy }
}

public struct TruncationError: Error, CustomStringConvertible {
    public let description: String
}

/// Truncates a and b in place; throws where HF does (the side to truncate is too short).
func truncateEncodings(_ a: inout Encoding, _ b: inout Encoding?, maxLength: Int, strategy: Truncation.Strategy) throws {
    if maxLength == 0 { a.truncate(0); b?.truncate(0); return }
    let total = a.count + (b?.count ?? 0)
    if total <= maxLength { return }
    let toRemove = total - maxLength
    switch strategy {
    case .longestFirst:
        if var other = b {
            var n1 = a.count, n2 = other.count
            var swap = false
            if n1 > n2 { swap = true; (n1, n2) = (n2, n1) }
            if n1 > maxLength { n2 = n1 } else { n2 = max(n1, maxLength - n1) }
            if n1 + n2 > maxLength { n1 = maxLength / 2; n2 = n1 + maxLength % 2 }
            if swap { (n1, n2) = (n2, n1) }
            a.truncate(n1); other.truncate(n2); b = other
        } else {
            a.truncate(total - toRemove)
        }
    case .onlyFirst:
        if a.count > toRemove { a.truncate(a.count - toRemove) }
        else { throw TruncationError(description: "truncation: the first sequence (\(a.count) tokens) is too short to remove \(toRemove) tokens") }
    case .onlySecond:
        guard var other = b else { throw TruncationError(description: "truncation: only_second needs a second sequence") }
        if other.count > toRemove { other.truncate(other.count - toRemove); b = other }
        else { throw TruncationError(description: "truncation: the second sequence (\(other.count) tokens) is too short to remove \(toRemove) tokens") }
    }
}
