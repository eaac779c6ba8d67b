import Foundation

/// One example: every file column (and alias) by name, the label index if labelled, and where it came from.
public struct Example: Sendable, Equatable {
    public var fields: [String: String]
    public var label: Int?
    public var location: SourceLocation
    public init(fields: [String: String], label: Int?, location: SourceLocation) {
        self.fields = fields; self.label = label; self.location = location
    }
}

public struct Dataset: Sendable {
    public var examples: [Example]
    /// Label strings as in the data; class index = position.
    public var labels: [String]
    /// Names a pattern slot may use (file columns and aliases).
    public var columnNames: [String]
    public var file: String
    /// The file's own columns, in file order.
    public var fileColumns: [String] = []
}

public enum DatasetLoader {
    /// Loads `path` with `format`. With `labels`, every row's label must be one of them (index = class);
    /// with `requireLabels` false, rows without a label column value are allowed (unlabelled pools).
    public static func load(path: String, format: DataFormat, labels: [String], requireLabels: Bool = true) throws -> Dataset {
        var bytes = try TextFile.readBytes(path: path)
        if format.encoding == .latin1 {
            bytes = TextFile.latin1ToUTF8(bytes)
        } else {
            _ = try TextFile.decodeUTF8(bytes, file: path)  // validates UTF-8 with line:byte location
        }
        var rows: [(values: [String: String], line: Int)] = []
        var fileColumns: [String] = []

        switch format.kind {
        case .csv, .tsv:
            let delimiter: UInt8 = format.kind == .csv ? 0x2C : 0x09
            var records = try DelimitedReader.records(bytes, delimiter: delimiter, quoting: format.usesQuotes, file: path)
            if format.hasHeader {
                guard !records.isEmpty else { throw PETError(.emptyDataset, "empty file: expected a header row and examples", at: SourceLocation(file: path)) }
                fileColumns = records.removeFirst().fields
            } else {
                guard let names = format.columnNames else {
                    throw PETError(.badTaskDescriptor, "headerless \(format.kind.rawValue) file needs \"columnNames\" in its format", at: SourceLocation(file: path))
                }
                fileColumns = names
            }
            rows.reserveCapacity(records.count)
            for r in records {
                if r.fields.count < fileColumns.count {
                    throw PETError(.missingColumn,
                        "row has \(r.fields.count) field\(r.fields.count == 1 ? "" : "s") but \(fileColumns.count) columns are expected: missing column '\(fileColumns[r.fields.count])'",
                        at: SourceLocation(file: path, line: r.line))
                }
                if r.fields.count > fileColumns.count {
                    throw PETError(.extraColumn,
                        "row has \(r.fields.count) fields but only \(fileColumns.count) columns (\(fileColumns.joined(separator: ", "))) are expected\(format.usesQuotes ? "" : "; is a tab inside a text?")",
                        at: SourceLocation(file: path, line: r.line))
                }
                var d: [String: String] = [:]
                for (k, v) in zip(fileColumns, r.fields) { d[k] = v }
                rows.append((d, r.line))
            }
        case .kimCNN:
            fileColumns = ["label", "text"]
            let text = String(decoding: bytes, as: UTF8.self)
            var lineNo = 0
            for raw in TextFile.lines(text) {
                lineNo += 1
                var line = Substring(raw)
                if line.hasSuffix("\r") { line = line.dropLast() }
                if line.isEmpty { continue }
                guard let sp = line.firstIndex(of: " ") else {
                    throw PETError(.missingColumn, "expected 'label text' but the line has no space: missing column 'text'",
                                   at: SourceLocation(file: path, line: lineNo))
                }
                rows.append((["label": String(line[..<sp]), "text": String(line[line.index(after: sp)...])], lineNo))
            }
        case .jsonl:
            let text = String(decoding: bytes, as: UTF8.self)
            var lineNo = 0
            var seen = Set<String>()
            for raw in TextFile.lines(text) {
                lineNo += 1
                let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
                if line.isEmpty { continue }
                guard let obj = try? JSONDecoder().decode([String: JSONScalar].self, from: Data(line.utf8)) else {
                    throw PETError(.badJSON, "expected one JSON object per line", at: SourceLocation(file: path, line: lineNo))
                }
                var d: [String: String] = [:]
                for k in obj.keys.sorted() {
                    guard let v = obj[k]?.text else { continue }
                    d[k] = v
                    if !seen.contains(k) { seen.insert(k); fileColumns.append(k) }
                }
                rows.append((d, lineNo))
            }
        }

        guard !rows.isEmpty else {
            throw PETError(.emptyDataset, "no examples in file", at: SourceLocation(file: path))
        }

        // Aliases and required columns.
        let aliases = format.columns ?? [:]
        var required = Array(Set(aliases.values)).sorted()
        if let lc = format.labelColumn, requireLabels { required.append(lc) }
        let labelIndex = Dictionary(labels.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var examples: [Example] = []
        examples.reserveCapacity(rows.count)
        for (values, line) in rows {
            let loc = SourceLocation(file: path, line: line)
            var fields = values
            for col in required where fields[col] == nil {
                let headerHint = format.hasHeader && (format.kind == .csv || format.kind == .tsv)
                    ? "; the first row is read as the header: if the file has none, give the column names (--column-names / \"columnNames\")" : ""
                throw PETError(.missingColumn, "row has no column '\(col)' (columns: \(fileColumns.joined(separator: ", ")))\(headerHint)", at: loc)
            }
            for (alias, col) in aliases { fields[alias] = values[col] }
            var label: Int?
            if let lc = format.labelColumn, let raw = values[lc] {
                let v = raw.trimmingCharacters(in: .whitespaces)
                guard let idx = labelIndex[v] else {
                    throw PETError(.unknownLabel, "label '\(v)' is not in the task's label list [\(labels.joined(separator: ", "))]", at: loc)
                }
                label = idx
            }
            examples.append(Example(fields: fields, label: label, location: loc))
        }
        let names = Array(Set(fileColumns).union(aliases.keys)).sorted()
        var d = Dataset(examples: examples, labels: labels, columnNames: names, file: path)
        d.fileColumns = fileColumns
        return d
    }
}

/// A JSON value of a JSONL row, as the text a pattern slot receives (booleans as "true"/"false",
/// numbers as written by Swift, nested values as compact JSON, null as absent).
struct JSONScalar: Decodable {
    var text: String?
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { text = nil }
        else if let s = try? c.decode(String.self) { text = s }
        else if let b = try? c.decode(Bool.self) { text = b ? "true" : "false" }
        else if let i = try? c.decode(Int64.self) { text = String(i) }
        else if let d = try? c.decode(Double.self) { text = String(d) }
        else if let a = try? c.decode([JSONScalar].self) { text = "[" + a.map { $0.text ?? "null" }.joined(separator: ",") + "]" }
        else if let o = try? c.decode([String: JSONScalar].self) {
            text = "{" + o.keys.sorted().map { "\($0):\(o[$0]?.text ?? "null")" }.joined(separator: ",") + "}"
        } else { text = nil }
    }
}
