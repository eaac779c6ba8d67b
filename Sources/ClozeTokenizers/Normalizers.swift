/// tokenizer.json `normalizer`.
indirect enum Normalizer {
    case bert(cleanText: Bool, chineseChars: Bool, stripAccents: Bool, lowercase: Bool)
    case nfd, nfc, nfkd, nfkc
    case lowercase
    case stripAccents
    case strip(left: Bool, right: Bool)
    case replace(pattern: Pattern, content: [UInt32])
    case prepend([UInt32])
    case precompiled(PrecompiledCharsmap)
    case sequence([Normalizer])

    func normalize(_ n: inout NormalizedString) {
        switch self {
        case let .bert(clean, chinese, strip, lower):
            if clean && n.scalars.contains(where: { $0 < 32 || $0 >= 127 }) {
                n.filter { c in !(c == 0 || c == 0xFFFD || (!(c == 9 || c == 10 || c == 13) && UProps.isOther(c))) }
                if n.scalars.contains(where: { $0 != 32 && UProps.isWhitespace($0) }) {
                    n.map { c, out in out.append(UProps.isWhitespace(c) ? 32 : c) }
                }
            }
            if chinese && n.scalars.contains(where: isChineseChar) {
                n.map { c, out in
                    if isChineseChar(c) { out.append(32); out.append(c); out.append(32) } else { out.append(c) }
                }
            }
            if strip {
                if n.scalars.contains(where: { $0 >= 0xC0 }) {
                    n.unicodeNormalize(compose: false, compat: false)
                    n.filter { !UProps.isMarkNonspacing($0) }
                }
            }
            if lower { Normalizer.lowercase.normalize(&n) }
        case .nfd: n.unicodeNormalize(compose: false, compat: false)
        case .nfkd: n.unicodeNormalize(compose: false, compat: true)
        case .nfc: n.unicodeNormalize(compose: true, compat: false)
        case .nfkc: n.unicodeNormalize(compose: true, compat: true)
        case .lowercase:
            if n.scalars.contains(where: { $0 >= 0x80 }) {
                n.map { c, out in _ = UProps.lowercase(c, into: &out) }
            } else {
                for i in 0..<n.scalars.count where n.scalars[i] >= 65 && n.scalars[i] <= 90 { n.scalars[i] += 32 }
            }
        case .stripAccents:
            n.filter { !UProps.isCombiningMark($0) }
        case let .strip(left, right):
            var a = 0, b = n.count
            if left { while a < b && UProps.isWhitespace(n.scalars[a]) { a += 1 } }
            if right { while b > a && UProps.isWhitespace(n.scalars[b - 1]) { b -= 1 } }
            if a != 0 || b != n.count { n = n.slice(a..<b) }
        case let .replace(pattern, content):
            // HF replace: each match is replaced by inserted scalars aligned with the match's last scalar.
            let matches = pattern.findMatches(n.scalars[...])
            guard !matches.isEmpty else { return }
            var ns: [UInt32] = [], st: [Int32] = [], en: [Int32] = []
            var pos = 0
            for m in matches {
                while pos < m.lowerBound { ns.append(n.scalars[pos]); st.append(n.starts[pos]); en.append(n.ends[pos]); pos += 1 }
                let last = m.upperBound - 1
                for c in content { ns.append(c); st.append(n.starts[last]); en.append(n.ends[last]) }
                pos = m.upperBound
            }
            while pos < n.count { ns.append(n.scalars[pos]); st.append(n.starts[pos]); en.append(n.ends[pos]); pos += 1 }
            n = NormalizedString(scalars: ns, starts: st, ends: en)
        case let .prepend(s):
            n.prepend(s)
        case let .precompiled(map):
            map.normalize(&n)
        case let .sequence(list):
            for x in list { x.normalize(&n) }
        }
    }
}

@inline(__always) func isChineseChar(_ c: UInt32) -> Bool {
    (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF)
        || (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF)
        || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F)
}

/// SentencePiece's precompiled normalisation map: a darts-clone double-array trie over UTF-8 bytes whose
/// values index NUL-terminated replacement strings.
struct PrecompiledCharsmap {
    let units: [UInt32]
    let normalized: [UInt8]

    init(bytes: [UInt8], file: String) throws {
        guard bytes.count >= 4 else { throw TokenizerError(file: file, place: "precompiled_charsmap", "charsmap shorter than 4 bytes") }
        let trieSize = Int(UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24)
        guard trieSize % 4 == 0, 4 + trieSize <= bytes.count else {
            throw TokenizerError(file: file, place: "precompiled_charsmap", "trie size \(trieSize) exceeds the charsmap (\(bytes.count) bytes)")
        }
        var u: [UInt32] = []
        u.reserveCapacity(trieSize / 4)
        var i = 4
        while i < 4 + trieSize {
            u.append(UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
            i += 4
        }
        guard !u.isEmpty else { throw TokenizerError(file: file, place: "precompiled_charsmap", "empty trie") }
        units = u
        normalized = Array(bytes[(4 + trieSize)...])
    }

    /// The replacement for the shortest trie key that prefixes `key` (what spm_precompiled does).
    func transform(_ key: [UInt8]) -> [UInt8]? {
        var nodePos = 0
        var unit = units[0]
        nodePos ^= Int(offset(unit))
        for c in key {
            if c == 0 { break }
            nodePos ^= Int(c)
            guard nodePos < units.count else { return nil }
            unit = units[nodePos]
            if (unit & ((1 << 31) | 0xFF)) != UInt32(c) { return nil }
            nodePos ^= Int(offset(unit))
            if (unit >> 8) & 1 == 1 {
                guard nodePos < units.count else { return nil }
                let value = Int(units[nodePos] & ((1 << 31) - 1))
                guard value < normalized.count else { return nil }
                var end = value
                while end < normalized.count && normalized[end] != 0 { end += 1 }
                return Array(normalized[value..<end])
            }
        }
        return nil
    }

    @inline(__always) private func offset(_ unit: UInt32) -> UInt32 {
        (unit >> 10) << ((unit & (1 << 9)) >> 6)
    }

    func normalize(_ n: inout NormalizedString) {
        var items: [(UInt32, Int)] = []
        items.reserveCapacity(n.count)
        var key: [UInt8] = []
        var changed = false
        UProps.graphemeBreaks(n.scalars[...]) { a, b in
            key.removeAll(keepingCapacity: true)
            for i in a..<b { appendUTF8(&key, n.scalars[i]) }
            if key.count < 6, let norm = transform(key) {
                replace(&items, oldCount: b - a, new: norm); changed = true
                return
            }
            for i in a..<b {
                key.removeAll(keepingCapacity: true)
                appendUTF8(&key, n.scalars[i])
                if let norm = transform(key) { replace(&items, oldCount: 1, new: norm); changed = true }
                else { items.append((n.scalars[i], 0)) }
            }
        }
        if changed { n.transform(items) }
    }

    private func replace(_ items: inout [(UInt32, Int)], oldCount: Int, new: [UInt8]) {
        let newScalars: [UInt32]
        switch new.withUnsafeBufferPointer({ decodeUTF8($0) }) {
        case .success(let s): newScalars = s
        case .failure: newScalars = stringScalars(String(decoding: new, as: UTF8.self))
        }
        let diff = newScalars.count - oldCount
        for c in newScalars { items.append((c, 0)) }
        if diff > 0 {
            for k in 0..<diff { items[items.count - 1 - k].1 = 1 }
        } else if diff < 0, !items.isEmpty {
            items[items.count - 1].1 += diff
        }
    }
}
