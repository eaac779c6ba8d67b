import ArgumentParser
import ClozeModels
import ClozePET
import ClozeTensor
import Foundation

/// `cloze bench-decode`: multi-mask PET's max-first decoding, batched across examples and candidates
/// against one example at a time, on real pool texts of a task (default: TREC questions with the
/// multi-token TREC verbalizer). Every mode must give the same scores; the command checks that.
struct BenchDecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-decode",
        abstract: "Time max-first multi-token decoding: batched vs one example at a time (build with -c release).")

    @Option(help: "Model directory.") var model: String = ClozeHome.defaultModel
    @Option(help: "Task name or datasets/<name>.json; its unlabelled pool supplies the texts.") var task = "trec"
    @Option(help: "Pattern file (its first pattern is used).") var patterns = "patterns/trec.txt"
    @Option(help: "Verbalizer with multi-token words.") var verbalizer = "verbalizers/trec-multi-token.txt"
    @Option(help: "Examples decoded.") var examples = 1000
    @Option(name: .customLong("batch-size"), help: "Batch size of the batched mode (cloze train's eval batch).") var batchSize = 32
    @Option(help: "Examples timed in the one-at-a-time modes (they are slow); the rate is scaled to --examples.")
    var sequentialExamples = 200
    @Option(help: "BLAS threads.") var threads = 2
    @Flag(help: "Print one JSON object instead of text.") var json = false

    func run() throws {
        BLASThreads.set(threads)
        let t = try TaskDescriptor.load(path: ClozeHome.taskPath(task))
        let pool = try t.loadUnlabeled(seed: t.seeds?.first).pool.examples
        guard pool.count >= examples else { throw ValidationError("the pool of \(task) has \(pool.count) examples, fewer than --examples \(examples)") }
        let vocab = try TokenizerVocabulary.load(directory: model)
        let v = try Verbalizer.load(path: shipped(verbalizer)).resolveMultiToken(labels: t.labels, vocabulary: vocab)
        guard let pattern = try PatternParser.load(path: shipped(patterns)).first else {
            throw ValidationError("\(patterns) has no pattern")
        }
        let builder = PETInputBuilder(pattern: pattern, vocabulary: vocab, maxLength: t.maxLength ?? 128, maskCount: v.maskCount)
        let features = try PETFeatures.build(Array(pool.prefix(examples)), builder: builder)
        let lm = try ModelLoader.loadMaskedLM(directory: model)
        let pad = vocab.specialTokens.padID
        let seqN = min(sequentialExamples, examples)
        // Batched: every example and candidate together (cloze's default).
        let (batched, tBatched) = try timed { try MultiMask.maxFirstScores(model: lm, features: features, verbalizer: v, batchSize: batchSize, padID: pad) }
        // The reference's scheme: one example per call, its candidates batched.
        let perExample = features.prefix(seqN)
        let (ref, tRef) = try timed { try perExample.flatMap { try MultiMask.maxFirstScores(model: lm, features: [$0], verbalizer: v, batchSize: v.tokens.count, padID: pad) } }
        // Batch size 1 throughout: one sequence per forward pass.
        let (single, tSingle) = try timed { try perExample.flatMap { try MultiMask.maxFirstScores(model: lm, features: [$0], verbalizer: v, batchSize: 1, padID: pad) } }
        let C = v.tokens.count
        let maxDiff = zip(batched.prefix(seqN * C), ref).map { abs($0 - $1) }.max() ?? 0
        let maxDiff1 = zip(ref, single).map { abs($0 - $1) }.max() ?? 0
        let scale = Double(examples) / Double(seqN)
        let r = BenchDecodeResult(examples: examples, candidates: C, lengths: v.tokens.map(\.count), threads: threads,
                                  batchedSeconds: tBatched, perExampleSeconds: tRef * scale, batchSize1Seconds: tSingle * scale,
                                  timedSequentialExamples: seqN, maxScoreDifference: max(maxDiff, maxDiff1))
        if json {
            let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
            print(String(decoding: try enc.encode(r), as: UTF8.self))
        } else {
            print(r.text)
        }
        guard r.maxScoreDifference < 1e-3 else { throw ValidationError("the decoding modes disagree by \(r.maxScoreDifference)") }
    }

    /// A path as given if it exists, else relative to the Cloze home (where patterns/ and verbalizers/ are).
    func shipped(_ path: String) -> String {
        FileManager.default.fileExists(atPath: path) || path.hasPrefix("/") ? path : ClozeHome.root + "/" + path
    }

    func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
        let start = DispatchTime.now().uptimeNanoseconds
        let value = try body()
        return (value, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}

struct BenchDecodeResult: Codable {
    var examples, candidates: Int
    var lengths: [Int]
    var threads: Int
    var batchedSeconds, perExampleSeconds, batchSize1Seconds: Double
    var timedSequentialExamples: Int
    var maxScoreDifference: Float

    var text: String {
        func f(_ x: Double) -> String { String(format: "%.1f", x) }
        return """
        max-first decoding of \(examples) examples, \(candidates) candidates of \(lengths.map(String.init).joined(separator: "/")) tokens, \(threads) threads
        batched (examples × candidates)        \(f(batchedSeconds)) s   \(f(Double(examples) / batchedSeconds)) ex/s
        one example at a time (reference)      \(f(perExampleSeconds)) s   ratio \(String(format: "%.2f", perExampleSeconds / batchedSeconds))×   (timed on \(timedSequentialExamples), scaled)
        batch size 1                           \(f(batchSize1Seconds)) s   ratio \(String(format: "%.2f", batchSize1Seconds / batchedSeconds))×
        largest score difference between modes \(maxScoreDifference)
        """
    }
}
