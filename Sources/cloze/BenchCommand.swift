import ArgumentParser
import ClozeModels
import ClozeTensor
import Foundation

/// `cloze bench`: forward throughput and training-step time with random weights of a given shape.
/// scripts/bench_torch.py measures the same with PyTorch for a side-by-side comparison.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time inference and one training step (random weights; build with -c release).")

    enum Shape: String, ExpressibleByArgument, CaseIterable {
        case bertBase = "bert-base", minilm
        /// config.json fields of the shape (BERT, 30,522-token vocabulary).
        var fields: [String: JSONValue] {
            let (h, l, heads, ffn): (Double, Double, Double, Double) = self == .bertBase ? (768, 12, 12, 3072) : (384, 6, 12, 1536)
            return ["model_type": .string("bert"), "vocab_size": .number(30522), "hidden_size": .number(h),
                    "num_hidden_layers": .number(l), "num_attention_heads": .number(heads), "intermediate_size": .number(ffn)]
        }
    }

    @Option(help: "Model shape: \(Shape.allCases.map(\.rawValue).joined(separator: ", ")).")
    var shape: Shape = .minilm
    @Option(help: "Sequences per batch.") var batch: Int = 4
    @Option(help: "Tokens per sequence.") var seq: Int = 128
    @Option(help: "BLAS threads.") var threads: Int = 2
    @Option(help: "Timed runs (the median is reported).") var runs: Int = 5
    @Option(help: "Untimed warm-up runs.") var warmup: Int = 1
    @Flag(name: .customLong("forward-only"), help: "Skip the training-step measurement.") var forwardOnly = false
    @Option(help: ArgumentHelp(quantizeHelp)) var quantize = "none"
    @Flag(help: "Also print the median time of each training-step phase.") var phases = false
    @Flag(help: "Print one JSON object (all timings in seconds) instead of text.") var json = false
    @Option(name: .customLong("mask-fraction"), help: "Fraction of tokens that get MLM logits / loss.") var maskFraction: Double = 0.15

    func validate() throws {
        guard batch > 0, seq > 0, seq <= 512, threads > 0, runs > 0, warmup >= 0 else {
            throw ValidationError("--batch, --seq (<= 512), --threads, --runs must be positive")
        }
        guard maskFraction > 0, maskFraction <= 1 else { throw ValidationError("--mask-fraction must be in (0, 1]") }
    }

    /// A random batch of `--batch` × `--seq` ids with `--mask-fraction` of its positions as MLM targets.
    struct BenchInput {
        var encoded: EncodedBatch
        var positions: [Int]
        var targets: [Int]
    }

    func benchInput(vocabSize: Int) throws -> BenchInput {
        var rng = SeededRNG(seed: 1)
        let n = batch * seq
        let ids = (0..<n).map { _ in Int32.random(in: 1000..<30000, using: &rng) }
        let encoded = try EncodedBatch(inputIds: ids, attentionMask: [Float](repeating: 1, count: n), batch: batch, seqLen: seq)
        let masked = max(1, Int((Double(n) * maskFraction).rounded()))
        let positions = Array(Array(0..<n).shuffled(using: &rng).prefix(masked)).sorted()
        let targets = positions.map { _ in Int.random(in: 0..<vocabSize, using: &rng) }
        return BenchInput(encoded: encoded, positions: positions, targets: targets)
    }

    /// Median wall time of `--runs` calls after `--warmup` unmeasured ones.
    func median(_ body: () throws -> Void) rethrows -> Double {
        for _ in 0..<warmup { try body() }
        var times: [Double] = []
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return times.sorted()[times.count / 2]
    }

    static let phaseNames = ["encoder forward", "MLM head + CE forward", "backward", "AdamW + zeroGrad"]

    /// Median training step (dropout on, CE at the masked positions, backward, AdamW) and each phase's median.
    func measureTrainStep(_ model: TransformerMaskedLM, _ input: BenchInput) throws -> (step: Double, phases: [Double]) {
        let optimizer = AdamW(parameters: model.parameters.map(\.tensor), learningRate: 1e-5)
        var dropoutRNG: SeededRNG? = SeededRNG(seed: 2)
        var phaseTimes: [[Double]] = [[], [], [], []]
        func lap(_ start: inout UInt64, _ phase: Int) {
            let now = DispatchTime.now().uptimeNanoseconds
            phaseTimes[phase].append(Double(now - start) / 1e9)
            start = now
        }
        let step = try median {
            var t = DispatchTime.now().uptimeNanoseconds
            let tape = Tape()
            let h = try model.encode(input.encoded, training: true, rng: &dropoutRNG, tape: tape)
            lap(&t, 0)
            let logits = try model.mlmLogits(hidden: h, positions: input.positions, vocabularyRows: nil, tape: tape)
            let loss = Ops.crossEntropy(logits, targets: input.targets, tape: tape)
            lap(&t, 1)
            tape.backward(loss)
            lap(&t, 2)
            optimizer.step()
            optimizer.zeroGrad()
            lap(&t, 3)
        }
        return (step, phaseTimes.map { $0.sorted()[$0.count / 2] })
    }

    func run() throws {
        BLASThreads.set(threads)
        let config = try ModelConfig(raw: shape.fields, file: "<bench \(shape.rawValue)>")
        let model = ModelLoader.random(config: config, seed: 0, quantization: try weightQuantization(quantize))
        let input = try benchInput(vocabSize: config.vocabSize)
        let n = batch * seq
        var noRNG: SeededRNG? = nil
        let forward = try median {
            let h = try model.encode(input.encoded, training: false, rng: &noRNG, tape: nil)
            _ = try model.mlmLogits(hidden: h, positions: input.positions, vocabularyRows: nil, tape: nil)
        }
        let count = model.parameters.reduce(0) { $0 + $1.tensor.count }
        var report: [String: Any] = ["shape": shape.rawValue, "parameters": count, "batch": batch, "seq": seq,
                                     "maskedPositions": input.positions.count, "threads": threads, "runs": runs,
                                     "forwardSeconds": forward, "forwardTokensPerSecond": Double(n) / forward]
        if !json {
            print("cloze bench: \(shape.rawValue) (\(String(format: "%.1f", Double(count) / 1e6))M parameters), batch \(batch) x seq \(seq), \(input.positions.count) masked positions, \(threads) BLAS threads (OpenBLAS kernels \(BLASKernels.coreName)), median of \(runs)")
            print(String(format: "forward (encoder + MLM head at masks, no tape): %.1f ms  = %.0f tokens/s", forward * 1000, Double(n) / forward))
        }
        if !forwardOnly {
            let (train, phaseMedians) = try measureTrainStep(model, input)
            report["trainStepSeconds"] = train
            report["trainStepTokensPerSecond"] = Double(n) / train
            if phases { report["phaseSeconds"] = Dictionary(uniqueKeysWithValues: zip(Self.phaseNames, phaseMedians)) }
            if !json {
                print(String(format: "train step (forward + CE + backward + AdamW):    %.1f ms  = %.0f tokens/s", train * 1000, Double(n) / train))
                if phases {
                    for (name, t) in zip(Self.phaseNames, phaseMedians) { print("  \(name): " + String(format: "%.1f ms", t * 1000)) }
                }
            }
        }
        if json {
            let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }
}
