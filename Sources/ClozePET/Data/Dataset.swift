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
    /// One file row: its values by column name and its 1-based line.
    typealias Row = (values: [String: String], line: Int)

    /// Loads `path` with `format`. With `labels`, every row's label must be one of them (index = class);
    /// with `requireLabels` false, rows without a label column value are allowed (unlabelled pools).
    public static func load(path: String, format: DataFormat, labels: [String], requireLabels: Bool = true) throws -> Dataset {
        var bytes = try TextFile.readBytes(path: path)
        if format.encoding == .latin1 {
            bytes = TextFile.latin1ToUTF8(bytes)
        } else {
            _ = try TextFile.decodeUTF8(bytes, file: path)  // validates UTF-8 with line:byte location
        }
        let (rows, fileColumns): ([Row], [String])
        switch format.kind {
        case .csv, .tsv: (rows, fileColumns) = try delimitedRows(bytes, format: format, path: path)
        case .kimCNN: (rows, fileColumns) = (try kimCNNRows(bytes, path: path), ["label", "text"])
        case .jsonl: (rows, fileColumns) = try jsonlRows(bytes, path: path)
        }
        guard !rows.isEmpty else {
            throw PETError(.emptyDataset, "no examples in file", at: SourceLocation(file: path))
        }
        let examples = try rows.map { try example($0, format: format, fileColumns: fileColumns, labels: labels,
                                                   requireLabels: requireLabels, path: path) }
        let names = Array(Set(fileColumns).union((format.columns ?? [:]).keys)).sorted()
        var d = Dataset(examples: examples, labels: labels, columnNames: names, file: path)
        d.fileColumns = fileColumns
        return d
    }

    /// CSV / TSV rows; the columns come from the header row, or from the format's `columnNames` when headerless.
    static func delimitedRows(_ bytes: [UInt8], format: DataFormat, path: String) throws -> ([Row], [String]) {
        let delimiter: UInt8 = format.kind == .csv ? 0x2C : 0x09
        var records = try DelimitedReader.records(bytes, delimiter: delimiter, quoting: format.usesQuotes, file: path)
        let fileColumns: [String]
        if format.hasHeader {
            guard !records.isEmpty else { throw PETError(.emptyDataset, "empty file: expected a header row and examples", at: SourceLocation(file: path)) }
            fileColumns = records.removeFirst().fields
        } else {
            guard let names = format.columnNames else {
                throw PETError(.badTaskDescriptor, "headerless \(format.kind.rawValue) file needs \"columnNames\" in its format", at: SourceLocation(file: path))
            }
            fileColumns = names
        }
        var rows: [Row] = []
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
            var values: [String: String] = [:]
            for (k, v) in zip(fileColumns, r.fields) { values[k] = v }  // a repeated header name: the last column wins
            rows.append((values, r.line))
        }
        return (rows, fileColumns)
    }

    /// Kim CNN's `label text` lines (MR, CR, SUBJ, MPQA originals).
    static func kimCNNRows(_ bytes: [UInt8], path: String) throws -> [Row] {
        var rows: [Row] = []
        var lineNo = 0
        for raw in TextFile.lines(String(decoding: bytes, as: UTF8.self)) {
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
        return rows
    }

    /// One JSON object per line; the columns are every key seen, in order of first appearance (keys of a row sorted).
    static func jsonlRows(_ bytes: [UInt8], path: String) throws -> ([Row], [String]) {
        var rows: [Row] = []
        var fileColumns: [String] = []
        var seen = Set<String>()
        var lineNo = 0
        for raw in TextFile.lines(String(decoding: bytes, as: UTF8.self)) {
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
                if seen.insert(k).inserted { fileColumns.append(k) }
            }
            rows.append((d, lineNo))
        }
        return (rows, fileColumns)
    }

    /// A row as an example: the required columns checked, aliases added, the label mapped to its class index.
    static func example(_ row: Row, format: DataFormat, fileColumns: [String], labels: [String],
                        requireLabels: Bool, path: String) throws -> Example {
        let aliases = format.columns ?? [:]
        var required = Array(Set(aliases.values)).sorted()
        if let lc = format.labelColumn, requireLabels { required.append(lc) }
        let loc = SourceLocation(file: path, line: row.line)
        var fields = row.values
        for col in required where fields[col] == nil {
            let headerHint = format.hasHeader && (format.kind == .csv || format.kind == .tsv)
                ? "; the first row is read as the header: if the file has none, give the column names (--column-names / \"columnNames\")" : ""
            throw PETError(.missingColumn, "row has no column '\(col)' (columns: \(fileColumns.joined(separator: ", ")))\(headerHint)", at: loc)
        }
        for (alias, col) in aliases { fields[alias] = row.values[col] }
        var label: Int?
        if let lc = format.labelColumn, let raw = row.values[lc] {
            let v = raw.trimmingCharacters(in: .whitespaces)
            guard let idx = labels.firstIndex(of: v) else {
                throw PETError(.unknownLabel, "label '\(v)' is not in the task's label list [\(labels.joined(separator: ", "))]", at: loc)
            }
            label = idx
        }
        return Example(fields: fields, label: label, location: loc)
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
