import CUTF8Proc

/// Unicode properties as HF `tokenizers` sees them: utf8proc's tables, corrected by the generated
/// `UnicodeSupplement` exception lists where HF's Rust crates use other Unicode versions.
enum UProps {
    @inline(__always) static func category(_ c: UInt32) -> Int32 {
        Int32(utf8proc_category(Int32(bitPattern: c)).rawValue)
    }
    // utf8proc_category_t values.
    static let Cn: Int32 = 0, Lu: Int32 = 1, Ll: Int32 = 2, Lt: Int32 = 3, Lm: Int32 = 4, Lo: Int32 = 5
    static let Mn: Int32 = 6, Mc: Int32 = 7, Me: Int32 = 8, Nd: Int32 = 9, Nl: Int32 = 10, No: Int32 = 11
    static let Pc: Int32 = 12, Pd: Int32 = 13, Ps: Int32 = 14, Pe: Int32 = 15, Pi: Int32 = 16, Pf: Int32 = 17, Po: Int32 = 18
    static let Zs: Int32 = 23, Zl: Int32 = 24, Zp: Int32 = 25, Cc: Int32 = 26, Cf: Int32 = 27, Cs: Int32 = 28, Co: Int32 = 29

    /// Rust `char::is_whitespace` (the White_Space property).
    @inline(__always) static func isWhitespace(_ c: UInt32) -> Bool {
        if c < 0x80 { return c == 32 || (c >= 9 && c <= 13) }
        switch c {
        case 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }

    /// `unicode_categories::is_other` (Cc, Cf, Cn, Co) as used by BertNormalizer's clean_text.
    @inline(__always) static func isOther(_ c: UInt32) -> Bool {
        if c < 0x80 { return c < 32 || c == 127 }
        if let v = UnicodeSupplement.otherOverride(c) { return v }
        let k = category(c)
        return k == Cc || k == Cf || k == Cn || k == Co || k == Cs
    }

    /// `unicode_categories::is_punctuation` or ASCII punctuation (BertPreTokenizer).
    @inline(__always) static func isBertPunctuation(_ c: UInt32) -> Bool {
        if c < 0x80 {
            return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)
        }
        if let v = UnicodeSupplement.punctuationOverride(c) { return v }
        let k = category(c)
        return k >= Pc && k <= Po
    }

    /// `unicode_categories::is_mark_nonspacing` (StripAccents).
    @inline(__always) static func isMarkNonspacing(_ c: UInt32) -> Bool {
        if c < 0x300 { return false }
        if let v = UnicodeSupplement.nonspacingOverride(c) { return v }
        return category(c) == Mn
    }

    /// `unicode_normalization::char::is_combining_mark` (Mn, Mc, Me), used by the StripAccents normalizer.
    @inline(__always) static func isCombiningMark(_ c: UInt32) -> Bool {
        if c < 0x300 { return false }
        if let v = UnicodeSupplement.combiningOverride(c) { return v }
        let k = category(c)
        return k == Mn || k == Mc || k == Me
    }

    /// Rust `char::to_lowercase`, which may give two scalars (U+0130).
    @inline(__always) static func lowercase(_ c: UInt32, into out: inout [UInt32]) -> Int {
        if c < 0x80 {
            out.append(c >= 65 && c <= 90 ? c + 32 : c); return 1
        }
        if c == 0x130 { out.append(0x69); out.append(0x307); return 2 }
        if let v = UnicodeSupplement.lowercaseOverride(c) { out.append(v); return 1 }
        out.append(UInt32(bitPattern: utf8proc_tolower(Int32(bitPattern: c))))
        return 1
    }

    /// Rust regex / Oniguruma classes used by the GPT-2 split pattern.
    @inline(__always) static func isLetter(_ c: UInt32) -> Bool {
        if c < 0x80 { return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) }
        if let v = UnicodeSupplement.letterOverride(c) { return v }
        let k = category(c)
        return k >= Lu && k <= Lo
    }
    @inline(__always) static func isNumber(_ c: UInt32) -> Bool {
        if c < 0x80 { return c >= 48 && c <= 57 }
        if let v = UnicodeSupplement.numberOverride(c) { return v }
        let k = category(c)
        return k >= Nd && k <= No
    }
    /// `\s` of the regex engine HF uses for the GPT-2 pattern.
    @inline(__always) static func isRegexSpace(_ c: UInt32) -> Bool {
        if c >= 0x80, let v = UnicodeSupplement.regexSpaceOverride(c) { return v }
        return isWhitespace(c)
    }

    /// `\w` (Whitespace pre-tokenizer): alphabetic, marks, decimal digits, connector punctuation, joiners.
    @inline(__always) static func isWordChar(_ c: UInt32) -> Bool {
        if c < 0x80 { return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 95 }
        if c == 0x200C || c == 0x200D { return true }
        if let v = UnicodeSupplement.wordOverride(c) { return v }
        let k = category(c)
        return (k >= Lu && k <= Lo) || k == Mn || k == Mc || k == Me || k == Nd || k == Nl || k == Pc
    }

    /// Rust `char::is_numeric` (Digits pre-tokenizer).
    @inline(__always) static func isNumeric(_ c: UInt32) -> Bool {
        if c < 0x80 { return c >= 48 && c <= 57 }
        if let v = UnicodeSupplement.numericOverride(c) { return v }
        let k = category(c)
        return k >= Nd && k <= No
    }

    /// Canonical composition of a pair, if there is a primary composite.
    static func composePair(_ a: UInt32, _ b: UInt32) -> UInt32? {
        let r = compose([a, b], compat: false)
        return r.count == 1 ? r[0] : nil
    }

    @inline(__always) static func combiningClass(_ c: UInt32) -> Int {
        Int(utf8proc_get_property(Int32(bitPattern: c)).pointee.combining_class)
    }

    /// Canonical (or compatibility) full decomposition of one scalar, not reordered.
    static func decompose(_ c: UInt32, compat: Bool, into out: inout [UInt32]) -> Int {
        if c < 0xC0 && !(compat && c >= 0xA0) { out.append(c); return 1 }
        if compat ? UnicodeSupplement.keepsCompat(c) : UnicodeSupplement.keepsCanonical(c) { out.append(c); return 1 }
        var buf = [Int32](repeating: 0, count: 32)
        var opts = UTF8PROC_DECOMPOSE.rawValue
        if compat { opts |= UTF8PROC_COMPAT.rawValue }
        let n = buf.withUnsafeMutableBufferPointer { bp in
            utf8proc_decompose_char(Int32(bitPattern: c), bp.baseAddress, 32, utf8proc_option_t(rawValue: opts), nil)
        }
        if n <= 0 || n > 32 { out.append(c); return 1 }
        for i in 0..<n { out.append(UInt32(bitPattern: buf[i])) }
        return n
    }

    /// NFC/NFKC of a short scalar run through utf8proc.
    static func compose(_ s: [UInt32], compat: Bool) -> [UInt32] {
        var buf = s.map { Int32(bitPattern: $0) }
        buf.append(0)
        var opts = UTF8PROC_COMPOSE.rawValue | UTF8PROC_STABLE.rawValue
        if compat { opts |= UTF8PROC_COMPAT.rawValue }
        let n = buf.withUnsafeMutableBufferPointer { bp in
            utf8proc_normalize_utf32(bp.baseAddress, s.count, utf8proc_option_t(rawValue: opts))
        }
        if n < 0 { return s }
        return buf[0..<n].map { UInt32(bitPattern: $0) }
    }

    /// Extended grapheme cluster boundaries (UAX #29), as `unicode-segmentation` gives them.
    static func graphemeBreaks(_ s: ArraySlice<UInt32>, _ body: (Int, Int) -> Void) {
        guard !s.isEmpty else { return }
        var state: Int32 = 0
        var start = s.startIndex
        var prev = s[s.startIndex]
        var i = s.startIndex + 1
        while i < s.endIndex {
            let c = s[i]
            if utf8proc_grapheme_break_stateful(Int32(bitPattern: prev), Int32(bitPattern: c), &state) {
                body(start, i); start = i
            }
            prev = c; i += 1
        }
        body(start, s.endIndex)
    }
}
