import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Streaming, resumable output of `cloze label`.
///
/// Rows go to `<out>.partial`; every `append` batch is written and fsync'ed, so a killed run loses at
/// most the batch in flight. On restart the partial file is re-read: complete rows are kept, a torn last
/// row is truncated away, and `completedRows` tells the caller which input row to continue from (rows
/// are written in input order, one per input row). `finish()` fsyncs and atomically renames the partial
/// file to `<out>`; a finished output is never reopened.
public final class LabelOutputWriter {
    public enum Format: String, Sendable { case jsonl, csv }

    public let outputPath: String
    public let partialPath: String
    public let format: Format
    public let inputColumns: [String]
    public let labels: [String]
    /// Rows already in the output (complete): continue labelling at this input row.
    public private(set) var completedRows: Int
    private var handle: FileHandle?

    public static func partialPath(for out: String) -> String { out + ".partial" }

    /// The first input row still to label, after checking the partial output fits an input of
    /// `inputRows` rows (a longer one belongs to another input).
    public func resumeRow(inputRows: Int) throws -> Int {
        guard completedRows <= inputRows else {
            throw PETError(.outputMismatch, "partial output has \(completedRows) rows but the input has only \(inputRows); delete it to start over",
                           at: SourceLocation(file: partialPath))
        }
        return completedRows
    }

    /// CSV header: input columns, `predicted_label`, then `p_<label>` per label.
    public var csvHeader: [String] { inputColumns + ["predicted_label"] + labels.map { "p_" + $0 } }

    public init(outputPath: String, format: Format, inputColumns: [String], labels: [String]) throws {
        self.outputPath = outputPath
        self.partialPath = Self.partialPath(for: outputPath)
        self.format = format
        self.inputColumns = inputColumns
        self.labels = labels
        let fm = FileManager.default
        if fm.fileExists(atPath: outputPath) {
            throw PETError(.outputMismatch, "output already exists and is complete; delete it or choose another --out",
                           at: SourceLocation(file: outputPath))
        }
        if fm.fileExists(atPath: partialPath) {
            let bytes = try TextFile.readBytes(path: partialPath)
            let (keep, rows) = try Self.completePrefix(bytes, format: format, file: partialPath, expectedHeader: nil)
            completedRows = rows
            guard let h = FileHandle(forUpdatingAtPath: partialPath) else {
                throw PETError(.outputIO, "cannot open for appending", at: SourceLocation(file: partialPath))
            }
            handle = h
            try h.truncate(atOffset: UInt64(keep))
            try h.seekToEnd()
            if format == .csv {
                if keep == 0 {
                    try writeAndSync(Data((csvLine(csvHeader)).utf8))
                } else {
                    let header = try Self.firstCSVRecord(Array(bytes[..<keep]), file: partialPath)
                    if header != csvHeader {
                        throw PETError(.outputMismatch,
                            "existing partial output has columns [\(header.joined(separator: ", "))] but this run writes [\(csvHeader.joined(separator: ", "))]; delete it to start over",
                            at: SourceLocation(file: partialPath, line: 1))
                    }
                }
            } else if rows > 0 {
                try Self.checkJSONLKeys(bytes, keep: keep, expected: Set(inputColumns + ["predicted_label", "probabilities"]), labels: Set(labels), file: partialPath)
            }
            if Int(keep) < bytes.count { try h.synchronize() }
        } else {
            guard fm.createFile(atPath: partialPath, contents: nil), let h = FileHandle(forWritingAtPath: partialPath) else {
                throw PETError(.outputIO, "cannot create output file", at: SourceLocation(file: partialPath))
            }
            handle = h
            completedRows = 0
            if format == .csv { try writeAndSync(Data(csvLine(csvHeader).utf8)) }
        }
    }

    /// One labelled row: the input's column values (same order as `inputColumns`), the predicted label
    /// and one probability per label.
    public struct Row {
        public var values: [String]
        public var predictedLabel: String
        public var probabilities: [Float]
        public init(values: [String], predictedLabel: String, probabilities: [Float]) {
            self.values = values; self.predictedLabel = predictedLabel; self.probabilities = probabilities
        }
    }

    /// Appends a batch and fsyncs it.
    public func append(_ rows: [Row]) throws {
        var out = ""
        for r in rows {
            guard r.values.count == inputColumns.count, r.probabilities.count == labels.count else {
                throw PETError(.outputMismatch, "row has \(r.values.count) values / \(r.probabilities.count) probabilities; expected \(inputColumns.count) / \(labels.count)",
                               at: SourceLocation(file: partialPath))
            }
            switch format {
            case .csv:
                out += csvLine(r.values + [r.predictedLabel] + r.probabilities.map { "\($0)" })
            case .jsonl:
                out += "{"
                for (k, v) in zip(inputColumns, r.values) { out += Self.jsonString(k) + ":" + Self.jsonString(v) + "," }
                out += "\"predicted_label\":" + Self.jsonString(r.predictedLabel) + ",\"probabilities\":{"
                out += zip(labels, r.probabilities).map { Self.jsonString($0) + ":" + "\($1)" }.joined(separator: ",")
                out += "}}\n"
            }
        }
        try writeAndSync(Data(out.utf8))
        completedRows += rows.count
    }

    /// Syncs and atomically renames `<out>.partial` to `<out>`.
    public func finish() throws {
        guard let h = handle else { return }
        try h.synchronize()
        try h.close()
        handle = nil
        if rename(partialPath, outputPath) != 0 {
            throw PETError(.outputIO, "cannot rename \(partialPath) to \(outputPath): \(String(cString: strerror(errno)))",
                           at: SourceLocation(file: outputPath))
        }
        // Make the rename itself durable.
        let dir = URL(fileURLWithPath: outputPath).deletingLastPathComponent().path
        let fd = open(dir, O_RDONLY)
        if fd >= 0 { fsync(fd); close(fd) }
    }

    deinit { try? handle?.close() }

    private func writeAndSync(_ d: Data) throws {
        guard let h = handle else { throw PETError(.outputIO, "output already finished", at: SourceLocation(file: outputPath)) }
        do {
            try h.write(contentsOf: d)
            try h.synchronize()
        } catch {
            throw PETError(.outputIO, "write failed: \(error)", at: SourceLocation(file: partialPath))
        }
    }

    private func csvLine(_ fields: [String]) -> String {
        fields.map { DelimitedReader.encodeField($0) }.joined(separator: ",") + "\n"
    }

    /// Length of the prefix made of complete rows, and how many data rows it holds (CSV: minus header).
    /// A row is complete when its terminating newline (outside quotes, for CSV) was written.
    static func completePrefix(_ b: [UInt8], format: Format, file: String, expectedHeader: [String]?) throws -> (Int, Int) {
        var keep = 0, records = 0
        var inQuotes = false
        for (i, c) in b.enumerated() {
            if format == .csv && c == 0x22 { inQuotes.toggle() }
            if c == 0x0A && !inQuotes { keep = i + 1; records += 1 }
        }
        let rows = format == .csv ? max(0, records - 1) : records
        return (keep, rows)
    }

    static func firstCSVRecord(_ b: [UInt8], file: String) throws -> [String] {
        try DelimitedReader.records(b, delimiter: 0x2C, quoting: true, file: file).first?.fields ?? []
    }

    /// The first and last complete JSONL rows must be objects with exactly this run's keys.
    static func checkJSONLKeys(_ b: [UInt8], keep: Int, expected: Set<String>, labels: Set<String>, file: String) throws {
        let lines = b[..<keep].split(separator: 0x0A)
        for (n, line) in [(1, lines.first), (lines.count, lines.last)] {
            guard let line, let obj = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                throw PETError(.outputMismatch, "existing partial output row is not a JSON object; delete the file to start over",
                               at: SourceLocation(file: file, line: n))
            }
            if Set(obj.keys) != expected {
                throw PETError(.outputMismatch,
                    "existing partial output has keys [\(obj.keys.sorted().joined(separator: ", "))] but this run writes [\(expected.sorted().joined(separator: ", "))]; delete it to start over",
                    at: SourceLocation(file: file, line: n))
            }
            let probs = Set((obj["probabilities"] as? [String: Any])?.keys.map { $0 } ?? [])
            if probs != labels {
                throw PETError(.outputMismatch,
                    "existing partial output has probabilities for labels [\(probs.sorted().joined(separator: ", "))] but this run's labels are [\(labels.sorted().joined(separator: ", "))]; delete it to start over",
                    at: SourceLocation(file: file, line: n))
            }
        }
    }

    /// JSON string literal with the mandatory escapes.
    static func jsonString(_ s: String) -> String {
        var o = "\""
        o.reserveCapacity(s.utf8.count + 2)
        for u in s.unicodeScalars {
            switch u {
            case "\"": o += "\\\""
            case "\\": o += "\\\\"
            case "\n": o += "\\n"
            case "\r": o += "\\r"
            case "\t": o += "\\t"
            default:
                if u.value < 0x20 { o += String(format: "\\u%04x", u.value) } else { o.unicodeScalars.append(u) }
            }
        }
        return o + "\""
    }
}
