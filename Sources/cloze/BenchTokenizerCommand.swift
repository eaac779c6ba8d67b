import ArgumentParser
import ClozePET
import ClozeTokenizers
import Foundation

/// `cloze bench-tokenizer`: single-thread encoding throughput in MB/s of UTF-8 input.
struct BenchTokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-tokenizer",
        abstract: "Measure tokenizer throughput (MB/s, single thread) on the lines of a file.")

    @Option(name: .long, help: "Model directory (tokenizer.json, vocab.txt, ...).")
    var model: String = ClozeHome.defaultModel

    @Option(name: .long, help: "Input file; lines are split on \\n.")
    var file: String = "Tests/Fixtures/tokenizers/hostile.txt"

    @Flag(name: .long, help: "The file is a TSV with a header line: use the first column (e.g. SST-2 train.tsv).")
    var tsv = false

    @Option(name: .long, help: "Passes over the file; the best pass is reported.")
    var repeats: Int = 5

    @Flag(name: .long, help: "Print one JSON object instead of text.")
    var json = false

    func run() throws {
        let tok = try Tokenizer.load(directory: URL(fileURLWithPath: model))
        guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
        // Split bytes on '\n' (String.split would treat "\r\n" as one Character and merge lines).
        var lines: [String] = []
        var start = data.startIndex
        for i in data.indices where data[i] == 10 { lines.append(String(decoding: data[start..<i], as: UTF8.self)); start = i + 1 }
        if start < data.endIndex { lines.append(String(decoding: data[start...], as: UTF8.self)) }
        if tsv { lines = lines.dropFirst().map { String($0.split(separator: "\t", omittingEmptySubsequences: false).first ?? "") } }
        let bytes = lines.reduce(0) { $0 + $1.utf8.count }
        var best = Double.infinity
        var tokens = 0
        for _ in 0..<max(1, repeats) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            var n = 0
            for l in lines { n += tok.encode(l).ids.count }
            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            best = min(best, dt); tokens = n
        }
        let mb = Double(bytes) / 1e6
        if json {
            let object: [String: Any] = ["lines": lines.count, "megabytes": mb, "tokens": tokens, "passes": repeats,
                                         "bestSeconds": best, "megabytesPerSecond": mb / best,
                                         "linesPerSecond": Double(lines.count) / best]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print(String(format: "cloze: %d lines, %.2f MB, %d tokens, best of %d passes %.3f s, %.2f MB/s, %.0f lines/s",
                     lines.count, mb, tokens, repeats, best, mb / best, Double(lines.count) / best))
    }
}
