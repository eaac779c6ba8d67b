import Foundation

/// Strict parser for pattern files (grammar in docs/PATTERNS.md). It only recognises the grammar's
/// tokens; nothing in a pattern is ever evaluated.
public enum PatternParser {
    /// Modifiers allowed after `:` in a slot.
    public static let slotModifiers = ["shorten"] + SlotTransform.allCases.map(\.rawValue)

    /// Parses a whole pattern file's text. Blank lines and lines whose first non-blank character is `#`
    /// are skipped; every other line is one pattern.
    public static func parseFile(text: String, file: String) throws -> [Pattern] {
        var patterns: [Pattern] = []
        var lineNumber = 0
        for rawLine in TextFile.lines(text) {
            lineNumber += 1
            var line = String(rawLine)
            if line.hasSuffix("\r") { line.removeLast() }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            patterns.append(try parseLine(line, location: SourceLocation(file: file, line: lineNumber)))
        }
        if patterns.isEmpty {
            throw PETError(.noPatterns, "no patterns: every line is blank or a # comment; expected at least one line with a [MASK]",
                           at: SourceLocation(file: file))
        }
        return patterns
    }

    /// Reads and parses a pattern file.
    public static func load(path: String) throws -> [Pattern] {
        try parseFile(text: TextFile.readUTF8(path: path), file: path)
    }

    /// Parses one pattern line. `location` gives file and line; columns are filled in by the parser.
    public static func parseLine(_ line: String, location: SourceLocation) throws -> Pattern {
        var scanner = PatternLineScanner(line: line, location: location)
        return try scanner.parse()
    }
}

/// One pass over a pattern line's Unicode scalars: literal text accumulates until a slot, a bracket
/// token or the end flushes it; each special element records whether a space preceded it.
struct PatternLineScanner {
    let s: [Unicode.Scalar]
    let line: String
    let location: SourceLocation
    var segments: [[Pattern.Element]] = [[]]
    var literal = String.UnicodeScalarView()
    var literalColumn = 1
    var pendingSpace = false
    var masks = 0
    var segmentBreakColumn: Int?
    /// Column of `{demo}`; nothing but spaces may follow it.
    var demoColumn: Int?
    var i = 0

    init(line: String, location: SourceLocation) {
        self.s = Array(line.unicodeScalars); self.line = line; self.location = location
    }

    func fail(_ code: PETError.Code, _ col: Int, _ msg: String) -> PETError {
        var loc = location; loc.column = col
        return PETError(code, msg, at: loc)
    }

    static func isSpace(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" }

    mutating func parse() throws -> Pattern {
        while i < s.count {
            let c = s[i], col = i + 1
            if let d = demoColumn, !Self.isSpace(c) {
                throw fail(.misplacedDemo, col, "text after {demo} (column \(d)): {demo} ends the pattern, since demonstrations follow the query")
            }
            switch c {
            case "\\": try escape(col)
            case "{": try slot(col)
            case "}": throw fail(.strayClosingBrace, col, "unexpected '}' without a matching '{': write a literal brace as '\\}'")
            case "[": try bracket(col)
            case "]": throw fail(.unknownBracketToken, col, "unexpected ']' without a matching '[': write a literal bracket as '\\]'")
            default:
                if literal.isEmpty { literalColumn = col }
                literal.append(c)
                i += 1
            }
        }
        flushLiteral()
        if let sep = segmentBreakColumn, segments[1].isEmpty {
            throw fail(.emptySegment, sep, "[SEP] at the end: expected text, a slot or [MASK] after the segment break")
        }
        if masks == 0 {
            throw fail(.noMask, 1, "no [MASK] in pattern: expected exactly one [MASK]")
        }
        return Pattern(segments: segments, location: location, source: line, demonstrations: demoColumn != nil)
    }

    /// Literal text so far becomes a text element; its surrounding spaces become `spaceBefore` flags.
    mutating func flushLiteral() {
        guard !literal.isEmpty else { return }
        let scalars = Array(literal)
        let lead = scalars.prefix(while: Self.isSpace).count
        let trail = scalars.reversed().prefix(while: Self.isSpace).count
        if lead == scalars.count {
            pendingSpace = true
        } else {
            let core = String(String.UnicodeScalarView(scalars[lead..<(scalars.count - trail)]))
            let first = segments[segments.count - 1].isEmpty
            segments[segments.count - 1].append(Pattern.Element(.text(core),
                spaceBefore: !first && (pendingSpace || lead > 0), column: literalColumn + lead))
            pendingSpace = trail > 0
        }
        literal = String.UnicodeScalarView()
    }

    mutating func appendSpecial(_ piece: Pattern.Piece, column: Int) {
        flushLiteral()
        let first = segments[segments.count - 1].isEmpty
        segments[segments.count - 1].append(Pattern.Element(piece, spaceBefore: !first && pendingSpace, column: column))
        pendingSpace = false
    }

    mutating func escape(_ col: Int) throws {
        guard i + 1 < s.count else {
            throw fail(.badEscape, col, "expected a character after '\\' (escapes: \\{ \\} \\[ \\] \\\\ \\#)")
        }
        let e = s[i + 1]
        guard "{}[]\\#".unicodeScalars.contains(e) else {
            throw fail(.badEscape, col, "unknown escape '\\\(e)': expected one of \\{ \\} \\[ \\] \\\\ \\#")
        }
        if literal.isEmpty { literalColumn = col }
        literal.append(e)
        i += 2
    }

    /// `{name[:modifier...]}`.
    mutating func slot(_ col: Int) throws {
        guard let close = s[(i + 1)...].firstIndex(of: "}") else {
            throw fail(.unclosedBrace, col, "unclosed '{': expected '}' to end the slot (write a literal brace as '\\{')")
        }
        let body = String(String.UnicodeScalarView(s[(i + 1)..<close]))
        if let nested = s[(i + 1)..<close].firstIndex(of: "{") {
            throw fail(.unclosedBrace, col, "unclosed '{': found another '{' at column \(nested + 1) before '}'")
        }
        let parts = body.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let name = parts[0].trimmingCharacters(in: .whitespaces)
        if name.isEmpty {
            throw fail(.emptySlot, col, "empty slot '{\(body)}': expected a column name such as {text_a}")
        }
        if name == "demo" {
            guard parts.count == 1 else { throw fail(.unknownModifier, col, "{demo} takes no modifiers: its demonstrations are shortened to fit --max-length") }
            flushLiteral()
            if segments.allSatisfy(\.isEmpty) { throw fail(.misplacedDemo, col, "{demo} at the start: the query pattern comes first, then {demo} at the end of the line") }
            demoColumn = col
            i = close + 1
            return
        }
        guard name.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == "-" || $0 == "." }) else {
            throw fail(.badSlotName, col, "bad slot name '\(name)': expected letters, digits, '_', '-' or '.' (map other column names to an alias in the task file)")
        }
        let (shortenable, transforms) = try slotModifiers(parts.dropFirst(), body: body, col: col)
        appendSpecial(.slot(name: name, shortenable: shortenable, transforms: transforms), column: col)
        i = close + 1
    }

    func slotModifiers(_ mods: ArraySlice<String>, body: String, col: Int) throws -> (Bool, [SlotTransform]) {
        var shortenable = false
        var transforms: [SlotTransform] = []
        for mod in mods {
            let m = mod.trimmingCharacters(in: .whitespaces)
            if m == "shorten" { shortenable = true; continue }
            guard let t = SlotTransform(rawValue: m) else {
                throw fail(.unknownModifier, col, "unknown slot modifier ':\(m)' in {\(body)}: expected one of \(PatternParser.slotModifiers.map { ":" + $0 }.joined(separator: ", "))")
            }
            if transforms.contains(t) { continue }
            if (t == .lowerFirst && transforms.contains(.upperFirst)) || (t == .upperFirst && transforms.contains(.lowerFirst)) {
                throw fail(.unknownModifier, col, "slot {\(body)} has both ':lower-first' and ':upper-first': keep one")
            }
            transforms.append(t)
        }
        return (shortenable, transforms)
    }

    /// `[MASK]`, `[SEP]`, `[SOFT]` / `[SOFT:n]`.
    mutating func bracket(_ col: Int) throws {
        guard let close = s[(i + 1)...].firstIndex(of: "]") else {
            throw fail(.unclosedBracket, col, "unclosed '[': expected [MASK] or [SEP] (write a literal bracket as '\\[')")
        }
        let body = String(String.UnicodeScalarView(s[(i + 1)..<close]))
        switch body {
        case "MASK":
            masks += 1
            if masks > 1 {
                throw fail(.multipleMasks, col, "second [MASK]: expected exactly one [MASK] per pattern (multi-mask patterns are not supported)")
            }
            appendSpecial(.mask, column: col)
        case "SEP":
            if segmentBreakColumn != nil {
                throw fail(.multipleSegmentBreaks, col, "second [SEP]: a pattern has at most two segments")
            }
            flushLiteral()
            if segments[0].isEmpty {
                throw fail(.emptySegment, col, "[SEP] at the start: expected text, a slot or [MASK] before the segment break")
            }
            segmentBreakColumn = col
            segments.append([])
            pendingSpace = false
        case "SOFT", _ where body.hasPrefix("SOFT:"):
            let n = body == "SOFT" ? 1 : Int(body.dropFirst(5))
            guard let n, n >= 1, n <= 100 else {
                throw fail(.notSupportedYet, col, "[\(body)]: expected [SOFT] or [SOFT:n] with n a number of virtual tokens from 1 to 100 ([SOFT:word] is not supported)")
            }
            appendSpecial(.soft(count: n), column: col)
        default:
            let hint = ["MASK", "SEP", "SOFT"].first { $0.caseInsensitiveCompare(body) == .orderedSame }
                .map { " (did you mean [\($0)]?)" } ?? ""
            throw fail(.unknownBracketToken, col, "unknown token '[\(body)]'\(hint): expected [MASK], [SEP] or [SOFT:n]; write a literal bracket as '\\['")
        }
        i = close + 1
    }
}
