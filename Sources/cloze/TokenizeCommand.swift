import ArgumentParser
import ClozePET
import ClozeTokenizers
import Foundation

/// `cloze tokenize`: tokens and ids of a text, or one line of ids per line of a file.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Tokenize text with a model's tokenizer (tokenizer.json, vocab.txt, vocab.json+merges.txt or spiece.model).")

    @Option(name: .long, help: "Model directory holding the tokenizer files.")
    var model: String = ClozeHome.defaultModel

    @Option(name: .long, help: "Tokenize every line of this UTF-8 file (lines split on \\n).")
    var file: String?

    @Flag(name: .long, help: "With --file: print only ids, one line of space-separated ids per input line.")
    var ids = false

    @Flag(name: .long, help: "Machine-readable JSON output (one JSON object per text).")
    var json = false

    @Flag(name: .long, help: "Do not add special tokens ([CLS], [SEP], <s>, ...).")
    var noSpecialTokens = false

    @Argument(help: "Text to tokenize (when --file is not given).")
    var text: [String] = []

    func run() throws {
        let tok = try Tokenizer.load(directory: URL(fileURLWithPath: model))
        var out = FileHandleOutput()
        if let f = file {
            let lines = try readInputLines(f)
            for line in lines {
                let e = tok.encode(line, addSpecialTokens: !noSpecialTokens)
                if json { out.write(jsonLine(e)) }
                else if ids { out.write(e.ids.map(String.init).joined(separator: " ")) }
                else { out.write(zip(e.tokens, e.ids).map { "\($0.0)/\($0.1)" }.joined(separator: " ")) }
            }
        } else {
            guard !text.isEmpty else { throw ValidationError("give a TEXT argument or --file F") }
            let e = tok.encode(text.joined(separator: " "), addSpecialTokens: !noSpecialTokens)
            if json { out.write(jsonLine(e)) }
            else if ids { out.write(e.ids.map(String.init).joined(separator: " ")) }
            else {
                for (k, t) in e.tokens.enumerated() { out.write("\(t)\t\(e.ids[k])\t\(e.offsets[k].0):\(e.offsets[k].1)") }
            }
        }
        out.flush()
    }

    /// Lines of a UTF-8 file, split on '\n' only; invalid UTF-8 is an error naming the line.
    func readInputLines(_ path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { throw TokenizerError(file: path, "cannot read the file") }
        var lines: [String] = []
        var start = data.startIndex, lineNo = 1
        func add(_ r: Range<Data.Index>) throws {
            // Not String(data:encoding:): Foundation drops a leading U+FEFF, which is text to tokenize here.
            guard let s = String(validating: data[r], as: UTF8.self) else {
                throw TokenizerError(file: path, place: "line \(lineNo)", "invalid UTF-8")
            }
            lines.append(s)
        }
        for i in data.indices where data[i] == 10 { try add(start..<i); start = i + 1; lineNo += 1 }
        if start < data.endIndex { try add(start..<data.endIndex) }
        return lines
    }

    func jsonLine(_ e: Encoding) -> String {
        func str(_ s: String) -> String {
            var o = "\""
            for u in s.unicodeScalars {
                switch u {
                case "\"": o += "\\\""
                case "\\": o += "\\\\"
                default:
                    if u.value < 0x20 { o += String(format: "\\u%04x", u.value) } else { o.unicodeScalars.append(u) }
                }
            }
            return o + "\""
        }
        let toks = e.tokens.map(str).joined(separator: ",")
        let ids = e.ids.map(String.init).joined(separator: ",")
        let offs = e.offsets.map { "[\($0.0),\($0.1)]" }.joined(separator: ",")
        let types = e.typeIDs.map(String.init).joined(separator: ",")
        let special = e.specialTokensMask.map(String.init).joined(separator: ",")
        return "{\"tokens\":[\(toks)],\"ids\":[\(ids)],\"offsets\":[\(offs)],\"type_ids\":[\(types)],\"special_tokens_mask\":[\(special)]}"
    }
}

/// Buffered stdout writer.
struct FileHandleOutput {
    private var buf: [UInt8] = []
    mutating func write(_ s: String) {
        buf.append(contentsOf: s.utf8); buf.append(10)
        if buf.count > 1 << 16 { flush() }
    }
    mutating func flush() {
        FileHandle.standardOutput.write(Data(buf)); buf.removeAll(keepingCapacity: true)
    }
}
